"""Payments recorded at the same instant (a double click, two accountants on one invoice):
the invoice's row lock makes each read what is due after the others, so together they never
exceed it and `invoice.paid` is announced once. With DATABASE_URL=postgresql… the 20
transactions really overlap; SQLite serialises them (BEGIN IMMEDIATE), with the same answer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from app.auth.models import Role
from app.clock import business_date
from app.db import utcnow
from app.events.models import Event
from app.invoices.models import PaymentEvent, PaymentKind
from tests.factories import login_as, make_client, session_of
from tests.factories.invoices import make_invoice
from tests.integration.fixtures_security import logged_in_csrf
from tests.integration.helpers import PARALLEL, fire_together


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

    assert sorted(r.status_code for r in responses) == [302] * PARALLEL  # back to the page
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
