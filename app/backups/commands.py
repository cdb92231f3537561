"""`paraphe backup [--to …]`, `paraphe backup prune` and `paraphe restore --from …`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup, with_appcontext

from app.backups import pruning
from app.backups.restore import RestoreRefused, restore
from app.backups.workflow import BackupFailed, backup
from app.db import utcnow
from app.rendering.french import plural
from app.wiring import runtime


@click.group(
    "backup",
    cls=AppGroup,
    invoke_without_command=True,
    help=(
        "Sauvegarde la base et les documents vers PARAPHE_BACKUP_URL (ou --to) : chaque "
        "document chiffré sous la clé de son client, copié seulement s'il manque à la cible ; "
        "manifeste scellé, écrit en dernier. Code de sortie 1 en cas d'échec."
    ),
)
@click.option("--to", "target", default=None, help="Dossier ou s3://compartiment/préfixe.")
@click.pass_context
@with_appcontext  # the group itself runs the backup: it needs the app, as commands do
def backup_group(ctx: click.Context, target: str | None) -> None:
    if ctx.invoked_subcommand is not None:
        return
    now = utcnow()
    try:
        outcome = backup(runtime().collaborators(now), slot=f"manuel-{now.isoformat()}", url=target)
    except BackupFailed as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(outcome.message)


@backup_group.command(
    "prune",
    help=(
        "Supprime les sauvegardes que la règle de conservation ne garde plus (7 quotidiennes, "
        "4 hebdomadaires, 12 mensuelles par défaut) et les copies qu'aucune sauvegarde gardée "
        "ne référence."
    ),
)
@click.option("--to", "target", default=None, help="Dossier ou s3://compartiment/préfixe.")
def prune_command(target: str | None) -> None:
    outcome = pruning.prune(runtime().collaborators(utcnow()), target)
    click.echo(
        f"{plural(len(outcome.kept), 'sauvegarde gardée', 'sauvegardes gardées')}, "
        f"{plural(len(outcome.removed), 'supprimée', 'supprimées')}, "
        f"{plural(outcome.deleted_copies, 'copie effacée', 'copies effacées')}."
    )


@click.command(
    "restore",
    help=(
        "Restaure une sauvegarde dans une instance vide : vérifie le sceau du manifeste et "
        "chaque empreinte avant d'écrire, puis contrôle le stockage et le journal. "
        "Code de sortie 1 en cas de refus ou de contrôle non conforme."
    ),
)
@click.option("--from", "source", required=True, help="Dossier ou s3://compartiment/préfixe.")
@click.option("--backup", "name", default=None, help="Nom de la sauvegarde (la plus récente).")
@with_appcontext
def restore_command(source: str, name: str | None) -> None:
    try:
        report = restore(runtime().collaborators(utcnow()), source, name)
    except (RestoreRefused, BackupFailed) as exc:
        click.echo(f"Restauration refusée : {exc}", err=True)
        sys.exit(1)
    click.echo(
        f"Sauvegarde {report.name} restaurée : "
        f"{plural(report.documents, 'document', 'documents')} en base, "
        f"{plural(report.restored_blobs, 'fichier restauré', 'fichiers restaurés')}."
    )
    for line in report.purged:
        click.echo(f"Non restauré, {line}")
    scrub = report.scrub
    if scrub.ok:
        checked = plural(scrub.checked, "fichier vérifié", "fichiers vérifiés")
        click.echo(f"Contrôle du stockage : conforme ({checked}).")
    else:
        click.echo(
            "Contrôle du stockage NON CONFORME : "
            f"{plural(len(scrub.mismatches), 'altéré', 'altérés')}, "
            f"{plural(len(scrub.missing), 'manquant', 'manquants')}, "
            f"{plural(len(scrub.orphans), 'orphelin', 'orphelins')}."
        )
    if not report.journal_problems:
        click.echo(f"Journal intact : {plural(report.journal_events, 'événement', 'événements')}.")
    else:
        click.echo("Journal NON CONFORME :")
        for problem in report.journal_problems:
            click.echo(f"  {problem}")
    if report.schema_to is not None:
        click.echo(
            f"Base mise à jour depuis le schéma de la sauvegarde : {report.schema_from} → "
            f"{report.schema_to}."
        )
    if not report.clean:
        sys.exit(1)
