"""Invoicing's journal entries (app.invoices.journal): each names its row by the row's own type
and id, is filed under the row's client, and its action is that type and a verb, so that a
credit note is never journaled as an invoice, nor a plan's change as an invoice's."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import transaction
from app.invoices.issuing import get_credit_note, get_invoice
from app.invoices.payments import record_failed_debit
from tests.factories import make_client, make_credit_note, make_invoice, runtime, session_of
from tests.factories.clock import REFERENCE_NOW
from tests.factories.invoices import pay_invoice, plan_for
from tests.factories.signing import signed_contract
from tests.factories.space import add_billing_contact

Entry = tuple[str, str, str]


def _invoicing_entries(app: Flask, client_id: int) -> list[Entry]:
    """The client's entries about its invoices, credit notes and plans, oldest first."""
    with session_of(app) as session:
        rows = session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.client_id == client_id,
                AuditEvent.subject_type.in_(("invoice", "credit_note", "billing_plan")),
            )
            .order_by(AuditEvent.id)
        ).all()
        return [(row.action, row.subject_type, row.subject_id) for row in rows]


def test_invoices_payments_and_credit_notes_are_journaled_under_their_own_type(
    app: Flask,
) -> None:
    client_id = make_client(app)
    add_billing_contact(app, client_id, "compta@client.example")
    paid = make_invoice(app, client_id, with_pdf=False)
    with transaction(runtime(app).session_factory) as session:
        pay_invoice(session, paid, "100.00", on=REFERENCE_NOW.date(), now=REFERENCE_NOW)
        record_failed_debit(
            session,
            invoice=get_invoice(session, paid),
            occurred_on=REFERENCE_NOW.date(),
            charge_fee=False,
            now=REFERENCE_NOW,
            actor="test",
        )
    note_id = make_credit_note(app, client_id)  # a new invoice, then the note cancelling it
    with session_of(app) as session:
        cancelled = get_credit_note(session, note_id).invoice_id

    assert _invoicing_entries(app, client_id) == [
        ("invoice.issued", "invoice", str(paid)),
        ("invoice.payment_recorded", "invoice", str(paid)),
        ("invoice.debit_failed", "invoice", str(paid)),
        ("invoice.issued", "invoice", str(cancelled)),
        ("invoice.mailed", "invoice", str(cancelled)),
        ("credit_note.issued", "credit_note", str(note_id)),
        ("credit_note.mailed", "credit_note", str(note_id)),
    ]


def test_a_billing_plan_is_journaled_as_a_plan(app: Flask) -> None:
    client_id = make_client(app)
    plan_id = plan_for(app, signed_contract(app, client_id))
    assert _invoicing_entries(app, client_id) == [
        ("billing_plan.created", "billing_plan", str(plan_id))
    ]
