"""`paraphe`: the operator command (Flask's CLI group over the app factory).

paraphe db upgrade | db check         schema migrations
paraphe users create|password|deactivate   users with a role; password and
                                      deactivation end all their sessions
paraphe tokens create|list|revoke     archivist API tokens (shown once, stored hashed)
paraphe cgv publish …                 publish a CGV version from a Markdown file
paraphe contracts bulk --author …     generate the contracts of all pending quotes, with a rate
paraphe seal status                   the seal certificate: subject, expiry, days left
paraphe demo                          demo data for the embedded defaults
paraphe storage scrub                 re-hash every blob: mismatches, missing, orphans
paraphe storage migrate --to s3://…   copy every blob to an S3 bucket, verified, locks included
paraphe audit verify                  check the journal's hash chain and its timestamps
paraphe audit anchor                  timestamp the journal's head with the TSA (periodically)
paraphe jobs purge [--dry-run]        delete what passed its retention, with a certificate
paraphe backup [--to …] | prune       sealed, encrypted backup of the database and blobs
paraphe restore --from …              a backup into an empty instance, checked, then verified
paraphe serve                         production server (granian, WSGI; what .ci/start runs)
paraphe worker [--workers N]          background jobs and the periodic ones (what .ci/start runs)
paraphe run                           development server (Werkzeug's reloader and debugger)
"""

from __future__ import annotations

import getpass
import os
import sys
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from app import migrate
from app.archive.commands import jobs_group, storage_group
from app.audit.commands import audit_group
from app.auth import services as auth
from app.auth.accounts import checked_title
from app.auth.errors import AuthError
from app.auth.models import Role, Scope
from app.backups.commands import backup_group, restore_command
from app.contracts.commands import contracts_group
from app.db import utcnow
from app.demo import seed
from app.errors import DomainError, FieldErrors
from app.invoices.commands import invoices_group
from app.rendering.french import article_reference, de
from app.signatures.commands import signatures_group
from app.signatures.seal_commands import seal_group
from app.terms.models import CgvVersion, VersionKind
from app.terms.versions import CgvDraft
from app.terms.workflow import publish_version as publish_cgv
from app.wiring import runtime as _runtime
from app.wiring import unit_of_work
from app.worker import processes_option, worker_command


def register_commands(app: Flask) -> None:
    for command in (db_group, users_group, tokens_group, cgv_group, demo_command, serve_command):
        app.cli.add_command(command)
    app.cli.add_command(worker_command)  # paraphe worker
    app.cli.add_command(storage_group)
    app.cli.add_command(jobs_group)
    app.cli.add_command(audit_group)
    app.cli.add_command(invoices_group)
    app.cli.add_command(signatures_group)
    app.cli.add_command(seal_group)  # paraphe seal status
    app.cli.add_command(contracts_group)  # paraphe contracts bulk
    app.cli.add_command(backup_group)  # paraphe backup [prune]
    app.cli.add_command(restore_command)  # paraphe restore --from …


@click.group("db", cls=AppGroup, help="Migrations du schéma.")
def db_group() -> None:
    """Migrations du schéma."""


@db_group.command("upgrade", help="Applique les migrations jusqu'à la dernière.")
def db_upgrade() -> None:
    migrate.upgrade(_runtime().settings.database_url)
    click.echo("Schéma à jour.")


@db_group.command("check", help="Échoue si les modèles et les migrations divergent.")
def db_check() -> None:
    migrate.check(_runtime().settings.database_url)
    click.echo("Modèles et migrations concordent.")


@click.group("users", cls=AppGroup, help="Utilisateurs.")
def users_group() -> None:
    """Utilisateurs."""


@users_group.command("create", help="Crée un compte, avec son rôle et son mot de passe.")
@click.option("--email", required=True, help="Adresse e-mail, qui sert d'identifiant.")
@click.option("--name", "full_name", required=True, help="Prénom et nom.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    required=True,
    help=" ; ".join(f"{r.value} : {r.label.lower()}" for r in Role) + ".",
)
@click.option(
    "--password",
    envvar="PARAPHE_NEW_PASSWORD",
    default=None,
    help="Sinon demandé au clavier (ou PARAPHE_NEW_PASSWORD).",
)
@click.option(
    "--title",
    default="",
    help="Sa fonction, imprimée quand il contresigne (« Directrice commerciale »).",
)
def users_create(email: str, full_name: str, role: str, password: str | None, title: str) -> None:
    # Checked by the web form's rule, and before the password prompt: a refused title must
    # not cost the operator a typed password.
    try:
        capacity = checked_title(title)
    except FieldErrors as exc:
        raise click.UsageError(f"--title : {exc.errors['title']}") from exc
    if password is None:
        password = getpass.getpass("Mot de passe : ")
    try:
        with unit_of_work() as session:
            user = auth.create_user(
                session,
                email=email,
                full_name=full_name,
                role=Role(role),
                password=password,
                now=utcnow(),
                actor="cli",
                title=capacity,
            )
            shown = f", {user.title}" if user.title else ""
            click.echo(f"Utilisateur n° {user.id} créé : {user.email} ({user.role.label}{shown}).")
    except AuthError as exc:
        raise click.ClickException(str(exc)) from exc


@users_group.command("password", help="Change le mot de passe et ferme toutes ses sessions.")
@click.option("--email", required=True, help="Adresse e-mail du compte.")
@click.option(
    "--password",
    envvar="PARAPHE_NEW_PASSWORD",
    default=None,
    help="Sinon demandé au clavier (ou PARAPHE_NEW_PASSWORD).",
)
def users_password(email: str, password: str | None) -> None:
    if password is None:
        password = getpass.getpass("Nouveau mot de passe : ")
    try:
        with unit_of_work() as session:
            user = auth.find_user(session, email)
            auth.change_password(session, user, password=password, now=utcnow(), actor="cli")
            click.echo(f"Mot de passe {de(user.email)} changé ; ses sessions sont fermées.")
    except AuthError as exc:
        raise click.ClickException(str(exc)) from exc


@users_group.command("deactivate", help="Désactive un compte et ferme toutes ses sessions.")
@click.option("--email", required=True, help="Adresse e-mail du compte.")
def users_deactivate(email: str) -> None:
    try:
        with unit_of_work() as session:
            user = auth.find_user(session, email)
            auth.deactivate_user(session, user, now=utcnow(), actor="cli")
            click.echo(f"Compte {user.email} désactivé ; ses sessions sont fermées.")
    except AuthError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group("tokens", cls=AppGroup, help="Jetons d'API (archivage, CRM).")
def tokens_group() -> None:
    """Jetons d'API (archivage, CRM)."""


@tokens_group.command(
    "create", help="Crée un jeton d'API : affiché une seule fois, conservé haché."
)
@click.option("--name", required=True, help="Qui l'utilise, pour quoi (ex. « CRM »).")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice([s.value for s in Scope]),
    help="Portée, à répéter pour en donner plusieurs : read (lire), restitution, "
    "admin (gels juridiques, webhooks), write (clients, devis, contrats, signatures).",
)
def tokens_create(name: str, scopes: tuple[str, ...]) -> None:
    with unit_of_work() as session:
        token, plaintext = auth.create_api_token(
            session, name=name, scopes=[Scope(s) for s in scopes], now=utcnow(), actor="cli"
        )
        click.echo(f"Jeton n° {token.id} « {token.name} » ({token.scopes}) :")
    click.echo(plaintext)
    click.echo("Conservez-le maintenant : il ne sera plus jamais affiché.", err=True)


@tokens_group.command("list", help="Liste les jetons : préfixe, nom, portées, état, dernier usage.")
def tokens_list() -> None:
    with unit_of_work() as session:
        for token in auth.list_api_tokens(session, oldest_first=True):
            state = "révoqué" if token.revoked_at else "actif"
            used = token.last_used_at.isoformat() if token.last_used_at else "jamais"
            click.echo(
                f"{token.id}\t{token.prefix}…\t{token.name}\t{token.scopes}\t{state}\t"
                f"dernier usage : {used}"
            )


@tokens_group.command("revoke", help="Révoque le jeton n° TOKEN_ID, refusé aussitôt partout.")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    try:
        with unit_of_work() as session:
            auth.revoke_api_token(session, token_id, now=utcnow(), actor="cli")
    except AuthError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Jeton n° {token_id} révoqué ; refusé dès maintenant par les serveurs en marche.")


@click.group("cgv", cls=AppGroup, help="Versions des conditions générales de vente.")
def cgv_group() -> None:
    """Versions des CGV."""


def _penalties_read(version: CgvVersion) -> str:
    """What the command read of late payment in the text: to check before contracts use it."""
    rule = version.late_interest_rule
    if rule is None:
        stated = "aucun taux énoncé, le taux de l'article L441-10 du Code de commerce s'appliquera"
    else:
        article = version.penalty_article
        where = f", selon l'{article_reference(article)}" if article else ""
        stated = f"{rule.label}{where}"
    return f"Pénalités de retard lues dans le texte : {stated}."


@cgv_group.command(
    "publish",
    help="Publie une version des CGV depuis un fichier Markdown (avec son PDF/A) et "
    "prévient les clients qui l'ont acceptée.",
)
@click.option("--label", required=True, help="Numéro de version, ex. 2.3.")
@click.option(
    "--effective",
    "effective",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Date d'entrée en vigueur, AAAA-MM-JJ.",
)
@click.option(
    "--file",
    "path",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Le texte, en Markdown.",
)
@click.option(
    "--kind",
    type=click.Choice([k.value for k in VersionKind]),
    default="minor",
    show_default=True,
    help="minor : rédactionnelle, opposable une fois notifiée ; material : substantielle, "
    "opposable une fois acceptée.",
)
@click.option("--summary", default="", help="Résumé des modifications, envoyé aux clients.")
@click.option(
    "--title", default="Conditions générales de vente", show_default=True, help="Titre du texte."
)
def cgv_publish(
    label: str, effective: datetime, path: str, kind: str, summary: str, title: str
) -> None:
    draft = CgvDraft(
        label=label,
        title=title,
        effective_date=effective.date(),
        body_markdown=Path(path).read_text(encoding="utf-8"),
        summary=summary,
        kind=VersionKind(kind),
    )
    try:
        publication = publish_cgv(_runtime().collaborators(utcnow()), draft, actor="cli")
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    version = publication.version
    if not publication.created:
        click.echo(f"CGV version {version.label} déjà publiée avec ce texte : rien de changé.")
    else:
        click.echo(f"CGV version {version.label} publiée (SHA-256 {version.sha256}).")
    click.echo(_penalties_read(version))


@click.command("demo", help="Crée les données de démonstration (idempotent).")
@with_appcontext
def demo_command() -> None:
    rt = _runtime()
    migrate.upgrade(rt.settings.database_url)
    lines = seed(rt.collaborators(utcnow()))
    rt.seal_key()  # creates the development PKI on first start
    for line in lines:
        click.echo(line)


STOP_TIMEOUT_S = 20


_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def links_elsewhere(base_url: str, port: int) -> str | None:
    """The warning `paraphe serve` prints when the links it mails would lead elsewhere: a
    PARAPHE_BASE_URL on this machine (loopback) naming another port than the one served. A
    public address (behind a proxy) may well differ from the port: nothing is said then."""
    parts = urlsplit(base_url)
    if parts.hostname not in _LOOPBACK:
        return None
    linked = parts.port or (443 if parts.scheme == "https" else 80)
    if linked == port:
        return None
    return (
        f"Attention : PARAPHE_BASE_URL vaut {base_url}, mais ce serveur écoute sur le port "
        f"{port} : les liens des courriels (signature, codes, CGV, espace client) mèneraient "
        f"ailleurs. Lancez-le avec PARAPHE_BASE_URL={parts.scheme}://{parts.hostname}:{port}."
    )


def server_argv(host: str, port: int, workers: int, threads: int) -> list[str]:
    """The production server's command line: granian serving the app factory over WSGI.

    Granian parses HTTP and holds the keep-alive connections in Rust; Python only runs the
    application, in ``threads`` threads per worker process (they overlap database waits; the
    GIL makes more of them useless). Measured with bench/api.py on 2 cores, 50 clients:
    ~1,750 req/s and p95 ≈ 42 ms, against ~1,000-1,250 req/s and p95 ≈ 80-130 ms for gunicorn
    gthread (see docs/benchmarks.md). The factory form imports the ``app`` package, so the
    server runs from any directory."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--factory",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads),
        "--log-level",
        "warning",
        # The application writes the access log (app/access_log.py): the server's would
        # print raw paths, and signing links carry their token in the path.
        "--no-access-log",
        # A request stuck past this (a hung peer) must not hold a stop or a deploy forever.
        "--workers-kill-timeout",
        str(STOP_TIMEOUT_S),
        "app.factory:create_app",
    ]


@click.command("serve", help="Serveur de production (granian, WSGI).")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="PARAPHE_HOST",
    help="Interface d'écoute (PARAPHE_HOST).",
)
@click.option(
    "--port", default=5000, show_default=True, type=int, envvar="PORT", help="Port (PORT)."
)
@processes_option("PARAPHE_WORKERS", "Processus du serveur (PARAPHE_WORKERS).")
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(1),
    envvar="PARAPHE_THREADS",
    help="Fils d'exécution par processus (PARAPHE_THREADS).",
)
@with_appcontext
def serve_command(host: str, port: int, workers: int, threads: int) -> None:
    # The configuration was already checked when this command group loaded the app: a bad
    # setting stops here with its message, not in every worker.
    if workers > 1 and _runtime().settings.ratelimit_storage_uri.startswith("memory://"):
        raise click.UsageError(
            f"PARAPHE_RATELIMIT_STORAGE=memory:// compte dans chaque processus : avec {workers} "
            f"processus, chaque limite de débit serait multipliée par {workers}. Gardez le "
            "stockage par défaut (database), ou redis://…, ou lancez --workers 1."
        )
    warning = links_elsewhere(_runtime().settings.base_url, port)
    if warning is not None:
        click.echo(warning, err=True)
    argv = server_argv(host, port, workers, threads)
    sys.stdout.flush()
    # Replace this process (no shell, a fixed argv): the service manager's signals reach the
    # server itself.
    os.execv(argv[0], argv)  # noqa: S606
