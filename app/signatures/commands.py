"""`paraphe signatures remind|expire|sweep`: the periodic work of the signature workflow, one
short command each, safe to run from cron at any frequency (each is idempotent)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.db import transaction, utcnow
from app.mail import OutgoingMail
from app.runtime import Runtime
from app.signatures import jobs, services


def _runtime() -> Runtime:
    rt: Runtime = current_app.extensions["paraphe"]
    return rt


@click.group("signatures", cls=AppGroup, help="Travaux périodiques des signatures (cron).")
def signatures_group() -> None:
    """Travaux périodiques des signatures (cron)."""


def _send(rt: Runtime, mails: list[OutgoingMail]) -> None:
    errors = jobs.send_all(rt.mailer, mails)
    for error in errors:
        click.echo(f"e-mail non envoyé : {error}", err=True)
    click.echo(f"{len(mails) - len(errors)} e-mail(s) envoyé(s).")


@signatures_group.command("remind", help="Relance les signataires selon PARAPHE_REMINDER_DAYS.")
def remind() -> None:
    rt = _runtime()
    with transaction(rt.session_factory) as session:
        due = services.due_reminders(session, now=utcnow(), schedule=rt.settings.reminder_days)
        mails = [services.reminder_mail(i, rt.settings.base_url) for i in due]
    click.echo(f"{len(mails)} relance(s).")
    _send(rt, mails)


@signatures_group.command("expire", help="Clôt les demandes dont le délai est dépassé.")
def expire() -> None:
    rt = _runtime()
    with transaction(rt.session_factory) as session:
        ids, mails = services.expire_due(session, now=utcnow())
    click.echo(f"{len(ids)} demande(s) expirée(s).")
    _send(rt, mails)


@signatures_group.command("sweep", help="Scelle les demandes signées dont le cachet manque.")
def sweep() -> None:
    rt = _runtime()
    result = jobs.sweep(jobs.workflow_of(rt), now=utcnow())
    for line in result.damaged:
        click.echo(f"Cachet impossible : {line}", err=True)
    click.echo(f"{len(result.sealed)} demande(s) scellée(s), {len(result.failed)} en échec.")
    _send(rt, result.mails)
    if result.failed:
        raise SystemExit(1)
