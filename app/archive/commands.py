"""`paraphe storage …`: operator checks of the blob store against the document records."""

from __future__ import annotations

import sys
from datetime import datetime

import click
from flask.cli import AppGroup

from app.archive.jobs import run_purge
from app.archive.services import scrub as scrubbing
from app.archive.services.storage_migration import locks_from_documents
from app.archive.workflow import build_restitution
from app.clients.errors import ClientNotFound
from app.clock import business_date
from app.db import transaction, utcnow
from app.documents.errors import DocumentIntegrityFailed
from app.rendering.french import format_decimal, plural
from app.storage_config import s3_store
from app.wiring import runtime
from storage import UNLOCKED, BlobCorrupted, BlobNotFound, StorageError
from storage.migration import Copied, copy_blob

# CGV previews never published (deleted with the rest at the end of their retention).
_PREVIEWS = ("aperçu de CGV jamais publié", "aperçus de CGV jamais publiés")
_PREVIEWS_DELETED = ("aperçu de CGV jamais publié effacé", "aperçus de CGV jamais publiés effacés")


@click.group("storage", cls=AppGroup, help="Stockage des documents archivés.")
def storage_group() -> None:
    """Stockage des documents archivés."""


@storage_group.command(
    "scrub",
    help=(
        "Recalcule le SHA-256 de chaque fichier stocké et signale les fichiers altérés, "
        "les références (documents, révisions des demandes de signature) dont le fichier "
        "manque et les fichiers que rien ne référence. "
        "Code de sortie 1 s'il y a un problème."
    ),
)
def scrub() -> None:
    rt = runtime()
    with transaction(rt.session_factory) as session:
        referenced = scrubbing.referenced_blobs(session)
    keys = list(rt.store.iter_keys())
    report = scrubbing.ScrubReport()
    with click.progressbar(
        keys, label="Vérification des empreintes", file=sys.stderr, show_pos=True
    ) as bar:
        scrubbing.scrub(rt.store, referenced, bar, report)
    click.echo(
        f"{plural(report.checked, 'fichier vérifié', 'fichiers vérifiés')}, "
        f"{plural(len(referenced), 'empreinte référencée', 'empreintes référencées')}."
    )
    for key in report.mismatches:
        holders = ", ".join(referenced.get(key, [])) or "aucune référence"
        click.echo(f"ALTÉRÉ    {key} ({holders})")
    for holder, key in report.missing:
        click.echo(f"MANQUANT  {key} ({holder})")
    for key in report.orphans:
        click.echo(f"ORPHELIN  {key} (rien ne le référence : document, révision, ancre)")
    if report.ok:
        click.echo("Aucun problème : chaque fichier correspond à son empreinte.")
        return
    click.echo(
        f"Problèmes : {plural(len(report.mismatches), 'altéré', 'altérés')}, "
        f"{plural(len(report.missing), 'manquant', 'manquants')}, "
        f"{plural(len(report.orphans), 'orphelin', 'orphelins')}.",
        err=True,
    )
    sys.exit(1)


@storage_group.command(
    "migrate",
    help=(
        "Copie chaque fichier du stockage actuel vers un compartiment S3 "
        "(s3://compartiment[/préfixe]), vérifie chaque copie par son SHA-256 et y reporte les "
        "verrous de conservation et gels juridiques. Reprenable : ce qui est déjà copié est "
        "sauté. Identifiants : variables AWS_ACCESS_KEY_ID et AWS_SECRET_ACCESS_KEY. "
        "Code de sortie 1 si un fichier n'a pas pu être copié."
    ),
)
@click.option(
    "--to", "target_url", required=True, help="Destination : s3://compartiment[/préfixe]."
)
@click.option(
    "--endpoint-url",
    default=None,
    help="Point d'accès S3 (défaut : PARAPHE_S3_ENDPOINT_URL, sinon AWS).",
)
@click.option("--region", default=None, help="Région S3 (défaut : PARAPHE_S3_REGION).")
def migrate_command(target_url: str, endpoint_url: str | None, region: str | None) -> None:
    # Imported on use, as boto3 itself (app.storage_config): the other commands never need it.
    from botocore.exceptions import BotoCoreError, ClientError

    rt = runtime()
    try:
        target = s3_store(
            target_url,
            endpoint_url=endpoint_url or rt.settings.s3_endpoint_url,
            region=region or rt.settings.s3_region,
        )
    except ValueError:
        raise click.BadParameter(
            "la destination doit être de la forme s3://compartiment[/préfixe]",
            param_hint="--to",
        ) from None
    with transaction(rt.session_factory) as session:
        locks = locks_from_documents(session)
    keys = list(rt.store.iter_keys())
    copied = already = 0
    failures: list[str] = []
    with click.progressbar(
        keys, label=f"Copie vers {target.location}", file=sys.stderr, show_pos=True
    ) as bar:
        for key in bar:
            try:
                outcome = copy_blob(rt.store, target, key, lock=locks.get(key, UNLOCKED))
            except BlobCorrupted:
                failures.append(f"ALTÉRÉ    {key} (ne correspond plus à son empreinte : non copié)")
            except BlobNotFound:
                continue  # deleted (purged) since the listing: nothing to copy
            except (StorageError, BotoCoreError, ClientError) as exc:
                failures.append(f"ÉCHEC     {key} ({_reason(exc)})")
            else:
                copied += outcome is Copied.COPIED
                already += outcome is Copied.ALREADY_THERE
    for line in failures:
        click.echo(line, err=True)
    if copied == 0 and not failures:
        click.echo(
            "Rien à copier : "
            + plural(
                already,
                f"fichier est déjà dans {target.location}, vérifié par son SHA-256.",
                f"fichiers sont déjà dans {target.location}, vérifiés par leur SHA-256.",
            )
        )
        return
    click.echo(
        f"{plural(copied, 'fichier copié et vérifié', 'fichiers copiés et vérifiés')}, "
        f"{plural(already, 'déjà présent', 'déjà présents')}, "
        f"{format_decimal(len(failures))} en échec, vers {target.location}."
    )
    if failures:
        not_copied = plural(len(failures), "fichier non copié", "fichiers non copiés")
        click.echo(
            f"Migration incomplète : {not_copied}. Corrigez la cause "
            "(`paraphe storage scrub` pour les fichiers altérés) puis relancez la commande : "
            "ce qui est déjà copié ne l'est pas deux fois.",
            err=True,
        )
        sys.exit(1)


def _reason(exc: Exception) -> str:
    """A failure's cause without secrets: S3's error code, or the storage error's message."""
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

    if isinstance(exc, NoCredentialsError):
        return "identifiants S3 introuvables : AWS_ACCESS_KEY_ID et AWS_SECRET_ACCESS_KEY"
    if isinstance(exc, EndpointConnectionError):
        return f"point d'accès S3 injoignable ({exc.kwargs.get('endpoint_url', '?')})"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"S3 {error.get('Code', '?')} : {error.get('Message', '')}".strip()
    return str(exc)


@click.group("jobs", cls=AppGroup, help="Tâches d'exploitation périodiques.")
def jobs_group() -> None:
    """Tâches d'exploitation périodiques."""


@jobs_group.command(
    "purge",
    help=(
        "Supprime ce qui a dépassé sa durée de conservation (fichiers, données personnelles "
        "du client), émet, archive et envoie un certificat de suppression, journalise tout. "
        "Idempotente : la relancer ne supprime rien de plus ; elle reprend après une panne."
    ),
)
@click.option("--dry-run", is_flag=True, help="Affiche ce qui serait supprimé, sans rien changer.")
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Avec --dry-run : ce qui serait supprimé à cette date (AAAA-MM-JJ).",
)
def purge_command(dry_run: bool, as_of: datetime | None) -> None:
    if as_of is not None and not dry_run:
        raise click.UsageError("--as-of ne s'emploie qu'avec --dry-run.")
    now = utcnow()
    today = as_of.date() if as_of is not None else business_date(now)
    report = run_purge(runtime(), today=today, now=now, dry_run=dry_run)
    if dry_run:
        click.echo(f"Simulation au {today.isoformat()} : rien n'est modifié.")
        for document_id, kind, reference, sha256 in report.due:
            click.echo(f"À SUPPRIMER  n° {document_id}  {kind}  {reference}  {sha256}")
        for client_id in report.to_anonymise:
            click.echo(f"À ANONYMISER client n° {client_id}")
        click.echo(
            f"{plural(len(report.due), 'document', 'documents')}, "
            f"{plural(len(report.to_anonymise), 'client', 'clients')}, "
            f"{plural(report.mails_deleted, 'courriel envoyé', 'courriels envoyés')} "
            "à effacer de la file, "
            f"{plural(report.previews_deleted, *_PREVIEWS)} à effacer."
        )
        return
    for item in report.deleted:
        click.echo(
            f"SUPPRIMÉ     n° {item.document_id}  {item.kind}  {item.reference} v{item.version}"
            f"  {item.sha256}"
        )
    for deferred in report.deferred:
        click.echo(
            f"CONSERVÉ     n° {deferred.document_id}  {deferred.kind}  {deferred.reference}"
            f" v{deferred.version}  {deferred.sha256} ({deferred.reason})"
        )
    for certificate_id, reference in report.certificates:
        click.echo(f"CERTIFICAT   {reference} (document n° {certificate_id})")
    for filename in report.emailed:
        if filename:
            click.echo(f"ENVOYÉ       {filename}")
    for line in report.damaged:
        click.echo(f"NON ENVOYÉ   {line}", err=True)
    click.echo(
        f"{plural(len(report.deleted), 'document supprimé', 'documents supprimés')}, "
        f"{plural(len(report.deferred), 'conservé', 'conservés')} par le verrou du stockage, "
        f"{plural(len(report.certificates), 'certificat émis', 'certificats émis')}, "
        f"{plural(report.mails_deleted, 'courriel envoyé effacé', 'courriels envoyés effacés')}"
        " de la file, "
        f"{plural(report.previews_deleted, *_PREVIEWS_DELETED)}."
    )
    if report.damaged:
        sys.exit(1)


@jobs_group.command(
    "restitution",
    help=(
        "Produit, scelle et archive l'archive de restitution du client CLIENT_ID. "
        "Idempotente : si les données du client n'ont pas changé depuis la dernière archive, "
        "celle-ci est gardée et rien n'est produit. Code de sortie 1 si un document a échoué "
        "au contrôle d'intégrité (journalisé)."
    ),
)
@click.argument("client_id", type=int)
def restitution_command(client_id: int) -> None:
    try:
        built = build_restitution(
            runtime().collaborators(utcnow()), client_id, actor="job:restitution"
        )
    except (ClientNotFound, DocumentIntegrityFailed) as exc:
        click.echo(exc.detail, err=True)
        sys.exit(1)
    document = built.record.document
    what = "PRODUITE " if built.created else "INCHANGÉE"
    click.echo(
        f"{what}  {document.reference}  {document.filename}  "
        f"{plural(built.record.files, 'fichier', 'fichiers')}"
        f"  {document.sha256}"
    )
