"""`paraphe contracts bulk`: generate the contracts of many quotes, one job per quote.

The command enqueues one `contracts.generate` job per quote not yet contracted; the
queue's workers (`paraphe worker`) generate each contract in its own transaction, exactly as
the web form does it (`contracts.bulk`). With `--wait` it follows the run with a progress bar
and reports the rate and the refusals (journaled by the jobs). A crash loses at most the
contracts being generated; a second run skips the quotes already contracted. The CGV pages
are laid out once per worker process (``app.rendering.contract``).
"""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Sequence
from decimal import Decimal

import click
from flask.cli import AppGroup

from app.auth.errors import AuthError
from app.auth.models import User
from app.auth.rules import Permission, can
from app.auth.services import find_user
from app.clauses.services import get_versions
from app.clock import business_date
from app.contracts import bulk as bulk_run
from app.contracts import tasks
from app.db import utcnow
from app.errors import DomainError
from app.quotes.services import quote_by_number, quotes_awaiting_contract
from app.rendering.french import NBSP, format_decimal, plural
from app.runtime import Collaborators, Runtime
from app.waiting import follow, wait_options
from app.wiring import runtime


@click.group("contracts", cls=AppGroup, help="Contrats.")
def contracts_group() -> None:
    """Contrats."""


def _author(rt: Runtime, email: str) -> User:
    with rt.session_factory() as session:
        try:
            user = find_user(session, email)
        except AuthError:
            user = None
        if user is None or not user.active:
            raise click.UsageError(f"Utilisateur {email!r} introuvable ou inactif.")
        if not can(user.role, Permission.GENERATE_CONTRACTS):
            raise click.UsageError(
                f"{email} ({user.role.label}) n'a pas le droit de générer des contrats."
            )
        session.expunge(user)
        return user


def _quote_ids(rt: Runtime, numbers: Sequence[str]) -> list[tuple[int, str]]:
    with rt.session_factory() as session:
        if numbers:
            try:
                quotes = [quote_by_number(session, n.strip()) for n in numbers]
            except DomainError as exc:
                raise click.UsageError(str(exc)) from exc
        else:
            quotes = quotes_awaiting_contract(session, business_date(utcnow()))
        return [(q.id, q.number) for q in quotes]


def _check_clauses(rt: Runtime, clause_version_ids: Sequence[int]) -> None:
    with rt.session_factory() as session:
        try:
            get_versions(session, clause_version_ids)
        except DomainError as exc:
            raise click.UsageError(str(exc)) from exc


@contracts_group.command(
    "bulk", help="Génère la version 1 du contrat de chaque devis (tous les devis en attente)."
)
@click.option(
    "--author",
    "author_email",
    required=True,
    help="E-mail de l'utilisateur (commercial) auteur des contrats.",
)
@click.option(
    "--quote",
    "numbers",
    multiple=True,
    help="Numéro de devis (DEV-AAAA-NNNN), répétable ; par défaut tous les devis en attente.",
)
@click.option(
    "--clause",
    "clause_version_ids",
    multiple=True,
    type=click.IntRange(min=1),
    help="Version de clause de la bibliothèque à joindre à chaque contrat, répétable.",
)
@wait_options(
    default_timeout=3600,
    what="Attend que les contrats soient générés (barre de progression, débit, refus).",
)
def bulk(
    author_email: str,
    numbers: tuple[str, ...],
    clause_version_ids: tuple[int, ...],
    wait: bool,
    timeout: int,
) -> None:
    rt = runtime()
    author = _author(rt, author_email)
    _check_clauses(rt, clause_version_ids)
    collab = rt.collaborators(utcnow())
    quotes = _quote_ids(rt, numbers)
    contracted = bulk_run.already_contracted(collab, [quote_id for quote_id, _ in quotes])
    for quote_id, number in quotes:
        if quote_id in contracted:
            click.echo(f"  déjà sous contrat, ignoré : {number}")
    quotes = [(quote_id, number) for quote_id, number in quotes if quote_id not in contracted]
    if not quotes:
        click.echo("Aucun devis en attente de contrat.")
        return
    run = secrets.token_hex(8)
    ids = [quote_id for quote_id, _ in quotes]
    started = time.perf_counter()
    for quote_id in ids:
        tasks.generate.enqueue(quote_id, author.id, list(clause_version_ids), run)
    if not wait:
        click.echo(
            f"{plural(len(ids), 'contrat', 'contrats')} en file : `paraphe worker` les génère "
            "(--wait pour suivre la génération)."
        )
        return
    report = _follow(collab, ids, run, timeout)
    seconds = time.perf_counter() - started
    rate = len(report.generated) / seconds if seconds > 0 else 0.0
    click.echo(
        f"{plural(len(report.generated), 'contrat généré', 'contrats générés')} en "
        f"{format_decimal(Decimal(f'{seconds:.1f}'))}{NBSP}s, soit "
        f"{plural(Decimal(f'{rate:.2f}'), 'contrat', 'contrats')} par seconde ; "
        f"{plural(len(report.refused), 'refusé', 'refusés')}."
    )
    for line in report.generated:
        click.echo(f"  {line}")
    for line in report.refused:
        click.echo(f"  refus : {line}", err=True)
    if report.done < len(ids):
        click.echo(
            f"{plural(len(ids) - report.done, 'contrat', 'contrats')} encore en file "
            f"après {timeout}{NBSP}s.",
            err=True,
        )
    if report.refused or report.done < len(ids):
        sys.exit(1)


def _follow(collab: Collaborators, ids: list[int], run: str, timeout: int) -> bulk_run.RunProgress:
    """Follow the queue's workers until each quote is contracted or refused, or `timeout`."""
    return follow(
        total=len(ids),
        label="Génération des contrats",
        timeout=timeout,
        read=lambda: bulk_run.progress(collab, ids, run),
        done=lambda progress: progress.done,
    )
