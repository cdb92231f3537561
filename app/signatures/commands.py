"""`paraphe signatures remind|expire|sweep`: the periodic work of the signature workflow, one
short command each, safe to run from cron at any frequency (each is idempotent)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.db import utcnow
from app.rendering.french import format_decimal, plural
from app.runtime import Collaborators
from app.signatures import tasks, workflow
from app.wiring import runtime


@click.group("signatures", cls=AppGroup, help="Travaux périodiques des signatures (cron).")
def signatures_group() -> None:
    """Travaux périodiques des signatures (cron)."""


def _collaborators() -> Collaborators:
    return runtime().collaborators(utcnow())


def _report_mails(sent: int, errors: list[str]) -> None:
    for error in errors:
        click.echo(f"e-mail non envoyé : {error}", err=True)
    click.echo(f"{plural(sent - len(errors), 'e-mail envoyé', 'e-mails envoyés')}.")


@signatures_group.command("remind", help="Relance les signataires selon PARAPHE_REMINDER_DAYS.")
def remind() -> None:
    result = workflow.remind(_collaborators())
    click.echo(f"{plural(result.count, 'relance', 'relances')}.")
    _report_mails(len(result.mails), result.mail_errors)


@signatures_group.command("expire", help="Clôt les demandes dont le délai est dépassé.")
def expire() -> None:
    result = workflow.expire(_collaborators())
    click.echo(f"{plural(result.count, 'demande expirée', 'demandes expirées')}.")
    _report_mails(len(result.mails), result.mail_errors)


@signatures_group.command(
    "sweep",
    help="Relance les signatures consenties dont le travail s'est perdu, puis scelle les "
    "demandes signées dont le cachet manque.",
)
def sweep() -> None:
    collab = _collaborators()
    requeued = tasks.requeue_lost_signatures(collab)
    if requeued:
        click.echo(
            plural(
                requeued,
                "signature consentie remise en file.",
                "signatures consenties remises en file.",
            )
        )
    result = workflow.sweep(collab)
    for line in result.damaged:
        click.echo(f"Cachet impossible : {line}", err=True)
    sealed = plural(len(result.sealed), "demande scellée", "demandes scellées")
    click.echo(f"{sealed}, {format_decimal(len(result.failed))} en échec.")
    _report_mails(len(result.mails), result.mail_errors)
    if result.failed:
        raise SystemExit(1)
