"""The journal entries of invoicing: about an invoice, a credit note or a billing plan. The
subject's type comes from the row's class, and every action is that type and a verb
(``invoice.issued``, ``credit_note.mailed``, ``billing_plan.revised``): an entry can never name
a credit note as an invoice, nor file one kind of row's action under another."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from app.audit import services as audit
from app.invoices.models import BillingPlan, CreditNote, Invoice, IssuedDocument

SUBJECT_TYPES: Final[dict[type[IssuedDocument | BillingPlan], str]] = {
    Invoice: "invoice",
    CreditNote: "credit_note",
    BillingPlan: "billing_plan",
}


def journal(
    session: Session,
    row: IssuedDocument | BillingPlan,
    verb: str,
    *,
    now: datetime,
    actor: str,
    details: dict[str, Any],
) -> None:
    """The entry saying `actor` did `verb` to `row`, filed under the row's client."""
    subject_type = SUBJECT_TYPES[type(row)]
    audit.record_about(
        session,
        subject_type,
        row,
        now=now,
        actor=actor,
        action=f"{subject_type}.{verb}",
        details=details,
    )
