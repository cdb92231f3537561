"""Invoices and credit notes in the API (/api/v1, scope read): what the invoice's page shows
(number, dates, amounts, what is left to pay, the client, the contract) with links to the
archived PDF through the documents API. The links the `invoice.*` and `credit_note.issued`
webhooks carry lead here."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint
from sqlalchemy.orm import Session

from app.auth.guards import require_scope
from app.auth.models import Scope
from app.clock import business_date
from app.db import utcnow
from app.invoices import issuing, payments
from app.invoices.models import CreditNote, Invoice
from app.pricing.totals import round_money
from app.wiring import read_only_db_session

bp = Blueprint("invoices_api", __name__, url_prefix="/api/v1")

STATUSES = ("open", "overdue", "paid", "credited")
"""open: something left to pay, not yet due; overdue: past its due date; paid: nothing left,
payments received; credited: nothing left, cancelled by credit notes alone."""


@bp.get("/invoices/<int:invoice_id>")
@require_scope(Scope.READ)
def invoice(invoice_id: int) -> dict[str, Any]:
    session = read_only_db_session()
    return _invoice_json(session, issuing.get_invoice(session, invoice_id))


@bp.get("/credit-notes/<int:note_id>")
@require_scope(Scope.READ)
def credit_note(note_id: int) -> dict[str, Any]:
    return _credit_note_json(issuing.get_credit_note(read_only_db_session(), note_id))


def _money(amount: Decimal) -> str:
    # Two decimals whatever the database returns (PostgreSQL: its column's scale).
    return str(round_money(amount))


def _document_links(document_id: int | None) -> dict[str, str | None]:
    """The archived PDF (null while the job renders and seals it)."""
    if document_id is None:
        return {"document": None, "content": None}
    return {
        "document": f"/api/v1/documents/{document_id}",
        "content": f"/api/v1/documents/{document_id}/content",
    }


def _status(invoice: Invoice, due: Decimal, paid: Decimal) -> str:
    if due > 0:
        late = invoice.due_on < business_date(utcnow())
        return "overdue" if late else "open"
    return "paid" if paid > 0 else "credited"


def _invoice_json(session: Session, invoice: Invoice) -> dict[str, Any]:
    due = payments.amount_due(session, invoice)
    paid = payments.paid_amount(session, invoice)
    return {
        "id": invoice.id,
        "number": invoice.number,
        "status": _status(invoice, due, paid),
        "issued_on": invoice.issued_on.isoformat(),
        "due_on": invoice.due_on.isoformat(),
        "period": invoice.period,
        "client_id": invoice.client_id,
        "contract_id": invoice.contract_id,
        "currency": "EUR",
        "total_excl_vat": _money(invoice.total_excl_vat),
        "total_vat": _money(invoice.total_vat),
        "total_incl_vat": _money(invoice.total_incl_vat),
        "amount_paid": _money(paid),
        "amount_due": _money(due),
        "credit_notes": [
            {"id": note.id, "number": note.number, "links": {"self": _credit_note_path(note.id)}}
            for note in invoice.credit_notes
        ],
        "links": {
            "self": _invoice_path(invoice.id),
            "client": f"/api/v1/clients/{invoice.client_id}",
            **_document_links(invoice.document_id),
        },
    }


def _credit_note_json(note: CreditNote) -> dict[str, Any]:
    return {
        "id": note.id,
        "number": note.number,
        "issued_on": note.issued_on.isoformat(),
        "reason": note.reason,
        "client_id": note.client_id,
        "invoice": {"id": note.invoice_id, "number": note.invoice.number},
        "contract_id": note.invoice.contract_id,
        "currency": "EUR",
        "total_excl_vat": _money(note.total_excl_vat),
        "total_vat": _money(note.total_vat),
        "total_incl_vat": _money(note.total_incl_vat),
        "links": {
            "self": _credit_note_path(note.id),
            "invoice": _invoice_path(note.invoice_id),
            "client": f"/api/v1/clients/{note.client_id}",
            **_document_links(note.document_id),
        },
    }


def _invoice_path(invoice_id: int) -> str:
    return f"/api/v1/invoices/{invoice_id}"


def _credit_note_path(note_id: int) -> str:
    return f"/api/v1/credit-notes/{note_id}"
