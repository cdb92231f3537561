"""`paraphe contracts bulk`: generate the contracts of many quotes in one run.

Each contract is generated in its own transaction, exactly as the web form does it (same
service, same checks, same audit entry): one refused quote (expired meanwhile, already
contracted by a colleague) is reported and the run goes on; a crash loses at most the
contract being generated, and a second run skips the quotes already contracted. The CGV
pages are laid out once per process (``app.rendering.contract``), so a bulk run pays the
CGV layout once and then only each contract's own pages.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.auth.models import User
from app.auth.rules import Permission, can
from app.clauses.services import get_versions
from app.clock import business_date
from app.contracts import generation, printing
from app.db import transaction, utcnow
from app.errors import DomainError
from app.quotes.services import get_quote, quote_by_number, quotes_awaiting_contract
from app.rendering.french import format_decimal
from app.runtime import Runtime


@click.group("contracts", cls=AppGroup, help="Contrats.")
def contracts_group() -> None:
    """Contrats."""


@dataclass
class BulkReport:
    generated: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return len(self.generated) / self.seconds if self.seconds > 0 else 0.0


def _author(rt: Runtime, email: str) -> User:
    with rt.session_factory() as session:
        user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
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


def generate_many(
    rt: Runtime,
    author: User,
    quotes: Sequence[tuple[int, str]],
    clause_version_ids: Sequence[int] = (),
    on_done: Callable[[], object] | None = None,
) -> BulkReport:
    """Generate version 1 of a contract for each quote, one transaction each, with the same
    particular clauses (library versions) for all."""
    report = BulkReport()
    started = time.perf_counter()
    for quote_id, quote_number in quotes:
        try:
            with transaction(rt.session_factory) as session:
                quote = get_quote(session, quote_id)
                version = generation.generate_contract(
                    session,
                    rt.store,
                    quote=quote,
                    vendor=rt.settings.vendor,
                    now=utcnow(),
                    actor=f"user:{author.id}",
                    author_id=author.id,
                    templates_dir=rt.settings.contract_templates_dir,
                    clauses=get_versions(session, clause_version_ids),
                    countersigner=printing.Countersigner.for_vendor(
                        rt.settings.vendor, author.full_name, author.email
                    ),
                )
                number = version.contract.number
            report.generated.append(f"{quote_number} → {number}")
        except DomainError as exc:
            report.refused.append(f"{quote_number} : {exc}")
        if on_done is not None:
            on_done()
    report.seconds = time.perf_counter() - started
    return report


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
def bulk(author_email: str, numbers: tuple[str, ...], clause_version_ids: tuple[int, ...]) -> None:
    rt: Runtime = current_app.extensions["paraphe"]
    author = _author(rt, author_email)
    _check_clauses(rt, clause_version_ids)
    quotes = _quote_ids(rt, numbers)
    if not quotes:
        click.echo("Aucun devis en attente de contrat.")
        return
    with click.progressbar(length=len(quotes), label="Génération des contrats") as bar:
        report = generate_many(
            rt, author, quotes, clause_version_ids, on_done=lambda: bar.update(1)
        )
    seconds = format_decimal(Decimal(f"{report.seconds:.1f}"))
    rate = format_decimal(Decimal(f"{report.per_second:.2f}"))
    click.echo(
        f"{len(report.generated)} contrat(s) généré(s) en {seconds} s, "
        f"soit {rate} contrat(s) par seconde ; {len(report.refused)} refusé(s)."
    )
    for line in report.generated:
        click.echo(f"  {line}")
    for line in report.refused:
        click.echo(f"  refus : {line}", err=True)
    if report.refused:
        sys.exit(1)
