"""`paraphe seal …`: the platform seal key, as operators see it (kept apart from the
workflow's periodic commands in commands.py)."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.db import utcnow
from app.wiring import runtime
from signing import EXPIRY_WARNING, CertificateValidityError, SigningError

# Exit codes of `paraphe seal status`, for monitoring (cron, probes).
STATUS_OK = 0
STATUS_EXPIRES_SOON = 1
STATUS_CANNOT_SIGN = 2


@click.group("seal", cls=AppGroup, help="Clé de cachet de la plateforme.")
def seal_group() -> None:
    """Clé de cachet de la plateforme."""


@seal_group.command(
    "status",
    help=(
        "Affiche le certificat du cachet (sujet, fin de validité, jours restants). "
        f"Code de sortie : {STATUS_OK} valide, {STATUS_EXPIRES_SOON} expire dans moins de "
        f"{EXPIRY_WARNING.days} jours, {STATUS_CANNOT_SIGN} inutilisable (expiré, "
        "pas encore valide ou illisible)."
    ),
)
def seal_status() -> None:
    rt = runtime()
    try:
        key = rt.signing_key()
    except SigningError as exc:
        click.echo(f"Clé de cachet illisible : {exc}", err=True)
        sys.exit(STATUS_CANNOT_SIGN)
    certificate = key.certificate
    click.echo(f"Sujet : {certificate.subject.rfc4514_string()}")
    click.echo(f"Émetteur : {certificate.issuer.rfc4514_string()}")
    click.echo(f"Valide jusqu'au : {key.not_after.isoformat()}")
    try:
        validity = key.check_validity(utcnow())
    except CertificateValidityError as exc:
        click.echo(f"ERREUR : le cachet ne peut pas signer. {exc}", err=True)
        sys.exit(STATUS_CANNOT_SIGN)
    click.echo(f"Jours restants : {validity.days_left}")
    if validity.expires_soon:
        click.echo(
            f"ATTENTION : le certificat du cachet expire dans {validity.days_left} jours "
            f"(moins de {EXPIRY_WARNING.days}) : renouvelez-le avant qu'il ne bloque les "
            "signatures.",
            err=True,
        )
        sys.exit(STATUS_EXPIRES_SOON)
    click.echo("État : valide.")
