"""Issuing invoices and credit notes: numbering, immutability, bad input (no number used)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from app.clients.services import get_client
from app.contracts.queries import get_contract
from app.db import transaction
from app.invoices import issuing
from app.invoices.errors import (
    ContractNotSigned,
    CreditNoteInvalid,
    InvoiceInvalid,
    PeriodAlreadyBilled,
)
from app.invoices.models import (
    CreditNote,
    ImmutableIssuedDocument,
    Invoice,
    InvoiceLine,
)
from app.numbering.models import NumberSequence
from app.pricing.lines import LineInput
from tests.factories import (
    count,
    issue_to,
    make_client,
    make_contracted_client,
    plan_of,
    publish_short_cgv,
    runtime,
    signed_contract,
)
from tests.together import run_together

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SERVICE = [LineInput("Journée de formation", Decimal("2"), Decimal("900.00"), Decimal("20"))]


def _issue_manual(app: Flask, lines: list[LineInput] = SERVICE, **kw: object) -> Invoice:
    with transaction(runtime(app).session_factory) as session:
        client = get_client(session, kw.pop("client_id"))  # type: ignore[arg-type]
        return issuing.issue_invoice(
            session,
            client=client,
            lines=lines,
            now=NOW,
            actor="test",
            **kw,  # type: ignore[arg-type]
        )


def _last_value(app: Flask, series: str) -> int:
    with runtime(app).session_factory() as session:
        seq = session.scalar(select(NumberSequence).where(NumberSequence.series == series))
        return 0 if seq is None else seq.last_value


def _signed_contract(app: Flask, *, publish: bool = True) -> int:
    return signed_contract(app, publish=publish)


def test_manual_invoice_numbers_totals_and_due_date(app: Flask) -> None:
    client_id = make_client(app)
    lines = [
        *SERVICE,
        LineInput("Remise fidélité", Decimal("1"), Decimal("-100.00"), Decimal("20")),
    ]
    first = _issue_manual(app, lines, client_id=client_id, payment_terms_days=45)
    second = _issue_manual(app, client_id=client_id)
    assert (first.number, second.number) == ("FAC-2026-000001", "FAC-2026-000002")
    assert first.total_excl_vat == Decimal("1700.00")
    assert first.total_vat == Decimal("340.00")
    assert first.total_incl_vat == Decimal("2040.00")
    assert (first.issued_on, first.due_on) == (date(2026, 12, 1), date(2027, 1, 15))


def test_issued_invoice_never_changes_nor_disappears(app: Flask) -> None:
    invoice = _issue_manual(app, client_id=make_client(app))
    factory = runtime(app).session_factory
    for mutate in (
        lambda s: setattr(s.get(Invoice, invoice.id), "total_incl_vat", Decimal("1")),
        lambda s: setattr(s.get(Invoice, invoice.id), "number", "FAC-2026-999999"),
        lambda s: setattr(s.get(Invoice, invoice.id).lines[0], "unit_price", Decimal("1")),
        lambda s: s.delete(s.get(Invoice, invoice.id).lines[0]),
        lambda s: s.delete(s.get(Invoice, invoice.id)),
    ):
        with pytest.raises(ImmutableIssuedDocument), transaction(factory) as session:
            mutate(session)
    with factory() as session:
        again = session.get(Invoice, invoice.id)
        assert again is not None and again.total_incl_vat == Decimal("2160.00")
        assert again.lines[0].unit_price == Decimal("900.00")


def test_credit_notes_have_their_own_series_and_never_exceed_the_invoice(app: Flask) -> None:
    invoice = _issue_manual(app, client_id=make_client(app))
    factory = runtime(app).session_factory
    with transaction(factory) as session:
        target = session.get(Invoice, invoice.id)
        assert target is not None
        partial = issuing.issue_credit_note(
            session,
            invoice=target,
            reason="Une journée non réalisée",
            lines=[LineInput("Journée de formation", Decimal("1"), Decimal("900"), Decimal("20"))],
            now=NOW,
            actor="test",
        )
    assert partial.number == "AV-2026-000001"
    assert partial.total_incl_vat == Decimal("1080.00")
    with pytest.raises(CreditNoteInvalid) as refused, transaction(factory) as session:
        target = session.get(Invoice, invoice.id)
        assert target is not None
        issuing.issue_credit_note(session, invoice=target, reason="Annulation", now=NOW, actor="t")
    assert "reste à créditer" in refused.value.errors["total"]
    assert _last_value(app, "AV") == 1
    assert count(app, CreditNote) == 1
    assert _last_value(app, "FAC") == 1  # a credit note takes no invoice number


@pytest.mark.parametrize(
    ("lines", "key"),
    [
        ([LineInput("Audit", Decimal("1"), Decimal("100"), Decimal("19.6"))], "lines-0-vat_rate"),
        (
            [
                LineInput("Audit", Decimal("1"), Decimal("100"), Decimal("20")),
                LineInput("Geste commercial", Decimal("1"), Decimal("-150"), Decimal("20")),
            ],
            "total",
        ),
        ([LineInput("", Decimal("1"), Decimal("100"), Decimal("20"))], "lines-0-designation"),
        ([LineInput("Audit", Decimal("0"), Decimal("100"), Decimal("20"))], "lines-0-quantity"),
        ([LineInput("Audit", Decimal("1"), Decimal("1.001"), Decimal("20"))], "lines-0-unit_price"),
        ([], "lines"),
    ],
)
def test_bad_lines_issue_nothing_and_consume_no_number(
    app: Flask, lines: list[LineInput], key: str
) -> None:
    client_id = make_client(app)
    with pytest.raises(InvoiceInvalid) as refused:
        _issue_manual(app, lines, client_id=client_id)
    assert key in refused.value.errors
    assert count(app, Invoice) == 0 and _last_value(app, "FAC") == 0
    assert _issue_manual(app, client_id=client_id).number == "FAC-2026-000001"


def test_contract_not_signed_and_period_already_billed_are_refused(app: Flask) -> None:
    publish_short_cgv(app)
    unsigned = make_contracted_client(app)
    factory = runtime(app).session_factory
    with pytest.raises(ContractNotSigned), transaction(factory) as session:
        contract = get_contract(session, unsigned.contract_id)
        issuing.issue_invoice(
            session, client=contract.client, lines=SERVICE, contract=contract, now=NOW, actor="t"
        )
    with pytest.raises(ContractNotSigned), transaction(factory) as session:
        plan_of(session, unsigned.contract_id, start_date=date(2026, 12, 1), now=NOW, actor="t")
    assert count(app, Invoice) == 0 and _last_value(app, "FAC") == 0

    contract_id = _signed_contract(app, publish=False)
    with transaction(factory) as session:
        plan = plan_of(session, contract_id, start_date=date(2026, 11, 16), now=NOW, actor="t")
        november = issuing.issue_period_invoice(
            session, plan=plan, period="2026-11", now=NOW, actor="t"
        )
        assert november is not None
        # started on the 16th: 15 of 30 days, quantity 12 × 0.5 = 6 at 100 € HT
        assert november.lines[0].quantity == Decimal("6.000")
        assert november.total_excl_vat == Decimal("600.00")
        assert "(prorata)" in november.lines[0].designation
        plan_id = plan.id
    with pytest.raises(PeriodAlreadyBilled), transaction(factory) as session:
        plan = session.get_one(type(plan), plan_id)
        issuing.issue_period_invoice(session, plan=plan, period="2026-11", now=NOW, actor="t")
    assert count(app, Invoice) == 1 and _last_value(app, "FAC") == 1
    with transaction(factory) as session:
        plan = session.get_one(type(plan), plan_id)
        december = issuing.issue_period_invoice(
            session, plan=plan, period="2026-12", now=NOW, actor="t"
        )
        assert december is not None and december.number == "FAC-2026-000002"
        assert december.total_excl_vat == Decimal("1200.00")


@pytest.mark.committed_db  # threads on their own connections
def test_twenty_concurrent_issuers_get_consecutive_numbers(app: Flask) -> None:
    client_id = make_client(app)
    factory = runtime(app).session_factory

    def issuer(index: int) -> list[str]:
        issued: list[str] = []
        for round_ in range(3):
            try:
                with transaction(factory) as session:
                    invoice = issue_to(
                        session, client_id, SERVICE, now=NOW, actor=f"issuer-{index}"
                    )
                    if round_ == 1 and index % 4 == 0:
                        raise RuntimeError("crash after taking a number")
            except RuntimeError:
                return issued
            issued.append(invoice.number)
        return issued

    outcomes = run_together(20, issuer)
    numbers = [number for issued in outcomes for number in issued]
    # 5 issuers crash on their 2nd invoice (rolled back) and stop: 15 × 3 + 5 × 1 issued
    assert len(numbers) == 50
    assert sorted(numbers) == [f"FAC-2026-{n:06d}" for n in range(1, 51)]
    with factory() as session:
        stored = session.scalars(select(Invoice.number).order_by(Invoice.number)).all()
        assert list(stored) == sorted(numbers)
        assert session.scalar(select(InvoiceLine.id).limit(1)) is not None
    assert _last_value(app, "FAC") == 50
