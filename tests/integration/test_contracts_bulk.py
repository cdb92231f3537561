"""`paraphe contracts bulk`: every pending quote gets its contract, with a progress bar and a
rate; refusals are reported without stopping the run; a second run generates nothing twice."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import Role, User
from app.clauses.models import Clause
from app.contracts import bulk, tasks
from app.contracts.bulk import Outcome
from app.contracts.models import Contract
from app.db import transaction, utcnow
from app.documents.models import Document, DocumentKind
from app.quotes.models import Quote, QuoteStatus
from tests.factories import (
    count,
    make_clause,
    make_client,
    make_quote,
    make_user,
    publish_short_cgv,
    runtime,
)


def test_bulk_generates_every_pending_quote_once_and_reports_a_rate(app: Flask) -> None:
    publish_short_cgv(app)
    author = make_user(app, Role.SALES)
    quotes = [make_quote(app, make_client(app)) for _ in range(3)]
    with runtime(app).session_factory() as session:
        clause = session.get(Clause, make_clause(app, title="Réversibilité <b>"))
        assert clause is not None
        clause_version = str(clause.versions[-1].id)
    runner = app.test_cli_runner()

    result = runner.invoke(
        args=["contracts", "bulk", "--wait", "--author", author, "--clause", clause_version]
    )

    assert result.exit_code == 0, result.output
    assert "Génération des contrats" in result.output  # the progress bar's label
    summary = re.search(
        r"(\d+)\u00a0contrats générés en [\d,]+\u00a0s, soit ([\d,]+)\u00a0(contrats?) par seconde",
        result.output,
    )
    assert summary is not None, result.output
    assert summary.group(1) == "3"
    rate = float(summary.group(2).replace(",", "."))
    assert rate > 0
    assert summary.group(3) == ("contrats" if rate >= 2 else "contrat")  # « 1,5 contrat »
    rt = runtime(app)
    with rt.session_factory() as session:
        contracts = session.scalars(select(Contract).order_by(Contract.id)).all()
        assert sorted(c.quote_id for c in contracts) == sorted(quotes)
        for contract in contracts:
            assert f"→ {contract.number}" in result.output
            assert contract.versions[0].reason == "Version initiale"
            assert contract.versions[0].author_id is not None
            assert [c.title for c in contract.versions[0].clauses] == ["Réversibilité <b>"]
        pdfs = session.scalars(select(Document).where(Document.kind == DocumentKind.CONTRACT))
        assert all(rt.store.get(d.sha256).startswith(b"%PDF-") for d in pdfs)
    assert count(app, AuditEvent, AuditEvent.action == "contract.generated") == 3

    again = runner.invoke(args=["contracts", "bulk", "--author", author])
    assert again.exit_code == 0, again.output
    assert "Aucun devis en attente de contrat." in again.output
    assert count(app, Contract) == 3


def test_a_refused_quote_is_reported_and_the_others_are_generated(app: Flask) -> None:
    publish_short_cgv(app)
    author = make_user(app, Role.SALES)
    good = make_quote(app, make_client(app))
    expired = make_quote(app, make_client(app))
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        quote = session.get(Quote, expired)
        assert quote is not None
        quote.valid_until = utcnow().date() - timedelta(days=1)
        numbers = [session.get(Quote, good).number, quote.number]  # type: ignore[union-attr]

    result = app.test_cli_runner().invoke(
        args=[
            "contracts",
            "bulk",
            "--wait",
            "--author",
            author,
            "--quote",
            numbers[0],
            "--quote",
            numbers[1],
        ]
    )

    assert result.exit_code == 1
    assert "1\u00a0contrat généré" in result.output
    assert f"refus : {numbers[1]} : Le devis {numbers[1]} a expiré" in result.output
    with rt.session_factory() as session:
        assert session.get(Quote, good).status is QuoteStatus.CONTRACTED  # type: ignore[union-attr]
        assert session.get(Quote, expired).status is QuoteStatus.DRAFT  # type: ignore[union-attr]
    assert count(app, Contract) == 1


def test_an_author_without_the_right_or_an_unknown_quote_is_a_usage_error(app: Flask) -> None:
    publish_short_cgv(app)
    legal = make_user(app, Role.LEGAL)
    sales = make_user(app, Role.SALES)
    make_quote(app, make_client(app))
    runner = app.test_cli_runner()

    refused = runner.invoke(args=["contracts", "bulk", "--author", legal])
    assert refused.exit_code == 2
    assert "n'a pas le droit de générer des contrats" in refused.output

    unknown = runner.invoke(args=["contracts", "bulk", "--author", "nobody@example.test"])
    assert unknown.exit_code == 2
    assert "introuvable ou inactif" in unknown.output

    no_clause = runner.invoke(args=["contracts", "bulk", "--author", sales, "--clause", "999"])
    assert no_clause.exit_code == 2
    assert "Version de clause inconnue : 999" in no_clause.output

    missing = runner.invoke(
        args=["contracts", "bulk", "--author", sales, "--quote", "DEV-1999-0001"]
    )
    assert missing.exit_code == 2
    assert "Devis DEV-1999-0001 introuvable" in missing.output
    assert count(app, Contract) == 0


def test_one_job_per_quote_and_a_quote_already_contracted_is_skipped(app: Flask) -> None:
    """Without --wait the command only enqueues (the jobs run inline here); a job run again
    for a contracted quote (a retry, a second run) makes nothing and journals no refusal."""
    publish_short_cgv(app)
    author = make_user(app, Role.SALES)
    quote_id = make_quote(app, make_client(app))

    result = app.test_cli_runner().invoke(args=["contracts", "bulk", "--author", author])

    assert result.exit_code == 0, result.output
    assert "1\u00a0contrat en file" in result.output
    assert count(app, Contract) == 1
    rt = runtime(app)
    with rt.session_factory() as session:
        author_id = session.scalars(select(User.id).where(User.email == author)).one()
    tasks.generate.enqueue(quote_id, author_id, [], "encore")
    again = bulk.generate_for_quote(rt.collaborators(utcnow()), quote_id, author_id=author_id)
    assert again.outcome is Outcome.SKIPPED and "déjà donné lieu au contrat" in again.line
    assert count(app, Contract) == 1
    assert count(app, AuditEvent, AuditEvent.action == bulk.REFUSED_ACTION) == 0
    assert count(app, AuditEvent, AuditEvent.action == "contract.generated") == 1
