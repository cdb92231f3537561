"""Payment follow-up: payments and rejected debits, reference rates, overdue invoices with
their late interest, and the reminders due."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.events import recording as events
from app.events.recording import Resource
from app.invoices import issuing, late_payment, rules
from app.invoices.errors import (
    PaymentInvalid,
    RateMissing,
)
from app.invoices.journal import journal
from app.invoices.models import (
    Invoice,
    InvoiceReminder,
    PaymentEvent,
    PaymentKind,
    PendingCharge,
    RateKind,
    ReferenceRate,
)
from app.messages import Day, msg
from app.pricing.totals import round_money
from app.rendering.french import format_date


def paid_amount(session: Session, invoice: Invoice) -> Decimal:
    amounts = session.scalars(
        select(PaymentEvent.amount).where(
            PaymentEvent.invoice_id == invoice.id, PaymentEvent.kind == PaymentKind.PAYMENT
        )
    ).all()
    return sum(amounts, Decimal("0.00"))


def amount_due(session: Session, invoice: Invoice) -> Decimal:
    """TTC still owed: the total, less payments received and credit notes issued on it."""
    credited = rules.credited_so_far([c.total_incl_vat for c in invoice.credit_notes])
    return invoice.total_incl_vat - credited - paid_amount(session, invoice)


def _date_problems(invoice: Invoice, occurred_on: date) -> dict[str, str]:
    problem = rules.payment_date_problem(occurred_on, invoice.issued_on)
    return {"occurred_on": problem} if problem else {}


def payments_of(session: Session, invoice: Invoice) -> Sequence[PaymentEvent]:
    """What happened to the invoice's payment (payments received, rejected debits), oldest
    first: the list its page shows."""
    return session.scalars(
        select(PaymentEvent)
        .where(PaymentEvent.invoice_id == invoice.id)
        .order_by(PaymentEvent.occurred_on, PaymentEvent.id)
    ).all()


def record_payment(
    session: Session,
    *,
    invoice: Invoice,
    amount: Decimal,
    occurred_on: date,
    now: datetime,
    actor: str,
    created_by_id: int | None = None,
) -> PaymentEvent:
    """A payment received, full or partial; never more than what is still due.

    The invoice's row is locked first and what is due read after: two payments recorded at
    once (a double click, two accountants) would otherwise both read the same balance and
    both pass, paying it twice and announcing `invoice.paid` twice. The second one waits,
    then sees the first one's payment."""
    issuing.lock_invoice(session, invoice)
    due = amount_due(session, invoice)
    problems = _date_problems(invoice, occurred_on)
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        problems["amount"] = msg("Montant positif, au centime.")
    elif amount > due:
        problems["amount"] = msg("Le montant dépasse le reste dû ({due} € TTC).", due=due)
    if problems:
        raise PaymentInvalid(problems)
    event = PaymentEvent(
        invoice_id=invoice.id,
        kind=PaymentKind.PAYMENT,
        amount=amount,
        occurred_on=occurred_on,
        note="",
        created_at=now,
        created_by_id=created_by_id,
    )
    session.add(event)
    session.flush()
    journal(
        session,
        invoice,
        "payment_recorded",
        now=now,
        actor=actor,
        details={"amount": str(amount), "left": str(due - amount)},
    )
    if amount == due:
        # Paid in full: never again, since no payment may exceed what is left (zero now).
        events.record(
            session,
            "invoice.paid",
            Resource("invoice", invoice.id, f"/api/v1/invoices/{invoice.id}"),
            {
                "number": invoice.number,
                "client_id": invoice.client_id,
                # Two decimals whatever the database returns (PostgreSQL: its column's scale).
                "total_incl_vat": str(round_money(invoice.total_incl_vat)),
                "currency": "EUR",
                "paid_on": occurred_on.isoformat(),
            },
            now=now,
        )
    return event


def record_failed_debit(
    session: Session,
    *,
    invoice: Invoice,
    occurred_on: date,
    charge_fee: bool,
    now: datetime,
    actor: str,
    created_by_id: int | None = None,
) -> PaymentEvent:
    """A rejected direct debit; with ``charge_fee`` the 25 € fee goes on the next invoice."""
    if problems := _date_problems(invoice, occurred_on):
        raise PaymentInvalid(problems)
    event = PaymentEvent(
        invoice_id=invoice.id,
        kind=PaymentKind.FAILED,
        amount=Decimal("0.00"),
        occurred_on=occurred_on,
        note="frais de rejet refacturés" if charge_fee else "",
        created_at=now,
        created_by_id=created_by_id,
    )
    session.add(event)
    if charge_fee:
        session.add(
            PendingCharge(
                client_id=invoice.client_id,
                designation=(
                    f"Frais de rejet de prélèvement du {format_date(occurred_on)} "
                    f"(facture {invoice.number})"
                ),
                amount=late_payment.REJECTED_DEBIT_FEE,
                vat_rate=Decimal("0"),  # an indemnity: outside the scope of VAT
                created_at=now,
            )
        )
    session.flush()
    journal(
        session,
        invoice,
        "debit_failed",
        now=now,
        actor=actor,
        details={"fee": charge_fee},
    )
    return event


def set_reference_rate(
    session: Session, *, kind: RateKind, effective_from: date, rate: Decimal, now: datetime
) -> ReferenceRate:
    if not rate.is_finite() or not Decimal("-5") <= rate <= Decimal("50"):
        raise PaymentInvalid({"rate": msg("Taux en %, entre -5 et 50.")})
    existing = session.scalar(
        select(ReferenceRate).where(
            ReferenceRate.kind == kind, ReferenceRate.effective_from == effective_from
        )
    )
    if existing is not None:
        raise PaymentInvalid(
            {
                "effective_from": msg(
                    "Un {kind_label} est déjà saisi au {effective_from}.",
                    kind_label=kind.label,
                    effective_from=Day(effective_from),
                )
            }
        )
    row = ReferenceRate(kind=kind, effective_from=effective_from, rate=rate, created_at=now)
    session.add(row)
    session.flush()
    return row


def reference_rates(session: Session) -> Sequence[ReferenceRate]:
    return session.scalars(
        select(ReferenceRate).order_by(ReferenceRate.kind, ReferenceRate.effective_from.desc())
    ).all()


def rate_on(session: Session, kind: RateKind, day: date) -> Decimal:
    found = session.scalar(
        select(ReferenceRate.rate)
        .where(ReferenceRate.kind == kind, ReferenceRate.effective_from <= day)
        .order_by(ReferenceRate.effective_from.desc())
        .limit(1)
    )
    if found is None:
        raise RateMissing(
            msg(
                "Aucun {kind_label} saisi en vigueur au {day}.",
                kind_label=kind.label,
                day=Day(day),
            )
        )
    return found


@dataclass(frozen=True)
class Overdue:
    invoice: Invoice
    amount_due: Decimal
    days_late: int
    rate: Decimal
    interest: Decimal
    indemnity: Decimal

    @property
    def total_claimed(self) -> Decimal:
        return self.amount_due + self.interest + self.indemnity


def overdue_invoices(session: Session, as_of: date) -> list[Overdue]:
    """Invoices past their due date with something left to pay, with the late interest
    (rates in force on the due date) and the 40 € indemnity."""
    rows: list[Overdue] = []
    candidates = session.scalars(
        select(Invoice).where(Invoice.due_on < as_of).order_by(Invoice.due_on, Invoice.id)
    ).all()
    for invoice in candidates:
        row = overdue(session, invoice, as_of)
        if row is not None:
            rows.append(row)
    return rows


def overdue(session: Session, invoice: Invoice, as_of: date) -> Overdue | None:
    """The invoice's arrears on `as_of`, or None when it is not late or nothing is left to
    pay (the one computation the reminders and the client's space both show)."""
    if invoice.due_on >= as_of:
        return None
    due = amount_due(session, invoice)
    if due <= 0:
        return None
    days = (as_of - invoice.due_on).days
    rate = late_payment.late_interest_rate(
        invoice.late_interest_rule.value,
        rate_on(session, RateKind.ECB, invoice.due_on),
        rate_on(session, RateKind.LEGAL, invoice.due_on),
    )
    return Overdue(
        invoice=invoice,
        amount_due=due,
        days_late=days,
        rate=rate,
        interest=late_payment.late_interest(due, rate, days),
        indemnity=invoice.recovery_indemnity,
    )


def reminders_due(session: Session, as_of: date) -> list[tuple[Overdue, int]]:
    """Overdue invoices whose next reminder step is reached, with that step."""
    due: list[tuple[Overdue, int]] = []
    for row in overdue_invoices(session, as_of):
        sent = session.scalars(
            select(InvoiceReminder.step).where(InvoiceReminder.invoice_id == row.invoice.id)
        ).all()
        step = late_payment.reminder_step(row.days_late, sent)
        if step is not None:
            due.append((row, step))
    return due


def record_reminder(session: Session, *, row: Overdue, step: int, now: datetime) -> InvoiceReminder:
    """A reminder step, recorded before its mail leaves. The first one of an invoice is when it
    becomes overdue for the receivers of `invoice.overdue` (once: one row per (invoice, step),
    so only one transaction can insert the first)."""
    first = (
        session.scalar(
            select(InvoiceReminder.id).where(InvoiceReminder.invoice_id == row.invoice.id).limit(1)
        )
        is None
    )
    reminder = InvoiceReminder(
        invoice_id=row.invoice.id,
        step=step,
        sent_to=row.invoice.client.signer_email,
        created_at=now,
    )
    session.add(reminder)
    session.flush()
    if first:
        invoice = row.invoice
        events.record(
            session,
            "invoice.overdue",
            Resource("invoice", invoice.id, f"/api/v1/invoices/{invoice.id}"),
            {
                "number": invoice.number,
                "client_id": invoice.client_id,
                "due_on": invoice.due_on.isoformat(),
                "days_late": row.days_late,
                "amount_due": str(round_money(row.amount_due)),
                "currency": "EUR",
            },
            now=now,
        )
    return reminder
