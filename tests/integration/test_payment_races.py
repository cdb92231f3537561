"""Payments and credit notes recorded at the same instant (a double click, two accountants on
one invoice): the invoice's row lock makes each read what is left after the others, so together
they never exceed it and `invoice.paid` is announced once. With DATABASE_URL=postgresql… the 20
transactions really overlap; SQLite serialises them (BEGIN IMMEDIATE), with the same answer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from app.auth.models import Role
from app.clock import business_date
from app.db import transaction, utcnow
from app.events.models import Event
from app.invoices import issuing
from app.invoices.errors import CreditNoteInvalid
from app.invoices.models import CreditNote, PaymentEvent, PaymentKind
from app.pricing.lines import LineInput
from tests.factories import login_as, make_client, runtime, session_of
from tests.factories.invoices import make_invoice
from tests.integration.fixtures_security import logged_in_csrf
from tests.integration.helpers import fire_together
from tests.together import PARALLEL, at_once


@pytest.mark.committed_db  # threads on their own connections
def test_twenty_payments_at_once_never_exceed_what_is_due(app: Flask) -> None:
    invoice_id = make_invoice(app, make_client(app), with_pdf=False)  # 1 080,00 € TTC
    sales = login_as(app, Role.SALES)
    token = logged_in_csrf(sales)
    form = {
        "csrf_token": token,
        "kind": "payment",
        "amount": "60,00",  # 20 × 60 = 1 200 > 1 080: the last two must be refused
        "occurred_on": business_date(utcnow()).isoformat(),
    }

    responses = fire_together(
        app, sales, lambda tab: tab.post(f"/factures/{invoice_id}/paiement", data=form)
    )

    # Recorded: back to the page; refused (more than what is left): the page with the error.
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [302] * (PARALLEL - 2) + [422] * 2
    with session_of(app) as session:
        amounts = session.scalars(
            select(PaymentEvent.amount).where(
                PaymentEvent.invoice_id == invoice_id, PaymentEvent.kind == PaymentKind.PAYMENT
            )
        ).all()
        paid = session.scalars(
            select(Event).where(Event.type == "invoice.paid", Event.resource_id == str(invoice_id))
        ).all()
    assert len(amounts) == 18
    assert sum(amounts, Decimal("0")) == Decimal("1080.00")
    assert len(paid) == 1


@pytest.mark.committed_db  # threads on their own connections
def test_twenty_credit_notes_at_once_never_exceed_the_invoice(app: Flask) -> None:
    invoice_id = make_invoice(app, make_client(app), with_pdf=False)  # 1 080,00 € TTC
    factory = runtime(app).session_factory

    def credit() -> str:
        try:
            with transaction(factory) as session:
                issuing.issue_credit_note(
                    session,
                    invoice=issuing.get_invoice(session, invoice_id),
                    reason="Geste commercial",
                    # 120 € TTC each: 9 fit in 1 080 €, the other 11 must be refused
                    lines=[LineInput("Remise", Decimal("1"), Decimal("100"), Decimal("20"))],
                    now=utcnow(),
                    actor="test",
                )
        except CreditNoteInvalid:
            return "refused"
        return "issued"

    outcomes = at_once(credit)

    assert sorted(outcomes) == ["issued"] * 9 + ["refused"] * 11
    with session_of(app) as session:
        totals = session.scalars(
            select(CreditNote.total_incl_vat).where(CreditNote.invoice_id == invoice_id)
        ).all()
    assert sum(totals, Decimal("0")) == Decimal("1080.00")
