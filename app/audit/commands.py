"""`paraphe audit …`: checking the hash-chained journal."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.audit import services
from app.audit.models import AuditEvent
from app.db import transaction
from app.wiring import runtime


@click.group("audit", cls=AppGroup, help="Journal d'audit chaîné.")
def audit_group() -> None:
    """Journal d'audit chaîné."""


@audit_group.command(
    "verify",
    help=(
        "Recalcule la chaîne d'empreintes du journal et indique où elle est rompue "
        "(événement altéré, inséré ou supprimé). Code de sortie 1 si elle l'est."
    ),
)
def verify() -> None:
    with transaction(runtime().session_factory) as session:
        count = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        problems = services.verify_chain(session)
    if not problems:
        click.echo(f"Journal intact : {count} événement(s), chaîne d'empreintes vérifiée.")
        return
    click.echo(f"Journal ROMPU ({count} événement(s) lus) :")
    for problem in problems:
        where = f"n° {problem.event_id}" if problem.event_id is not None else "—"
        click.echo(f"  [{where}] {problem.message}")
    sys.exit(1)
