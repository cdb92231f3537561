"""Invoices, credit notes and billing plans.

An issued invoice (or credit note) is immutable: the ``before_flush`` guard below refuses any
update or deletion of one, except attaching its archived PDF once (``document_id`` from
NULL). Corrections and cancellations are credit notes that reference the invoice.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, relationship

from app.clients.models import Client
from app.db import Amount, Base, UTCDateTime
from app.documents.models import Document
from app.enums import LabelledEnum, enum_column
from app.pricing.columns import PricedLineColumns
from app.terms.models import LateInterestRule

__all__ = ["LateInterestRule"]  # defined with the CGV versions that state it; used here too


class BillingFrequency(LabelledEnum):
    MONTHLY = "monthly"
    ANNUAL = "annual"


class BillingPlan(Base):
    """How a signed contract is billed: frequency, start, amounts per period, payment terms.

    Lines are copied from the contract's quote when the plan is created; the lead can later
    fill them from the commercial terms of the contract (commitment, setup-fee schedule).
    """

    __tablename__ = "billing_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    frequency: Mapped[BillingFrequency] = mapped_column(enum_column(BillingFrequency))
    start_date: Mapped[date]
    payment_terms_days: Mapped[int] = mapped_column(default=30)
    payment_method: Mapped[str] = mapped_column(String(100), default="Virement bancaire")
    # From the signed contract (``late_payment.penalty_terms``), never a default: the CGV version it
    # was signed under, or a particular term that overrides it; ``penalty_source`` says which.
    late_interest_rule: Mapped[LateInterestRule] = mapped_column(enum_column(LateInterestRule))
    recovery_indemnity: Mapped[Decimal] = mapped_column(Amount(), server_default=text("'40.00'"))
    penalty_source: Mapped[str] = mapped_column(String(300), server_default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    client: Mapped[Client] = relationship(lazy="joined")
    lines: Mapped[list[BillingPlanLine]] = relationship(
        back_populates="plan", order_by="BillingPlanLine.position", cascade="all, delete-orphan"
    )


class PlanLineKind(StrEnum):
    RECURRING = "recurring"  # billed every period, in advance
    ONE_OFF = "one_off"  # billed once, on the invoice of ``bill_period`` (setup-fee schedule)


class BillingPlanLine(PricedLineColumns, Base):
    """An amount billed each period (unit price excl. VAT per period), or once: a setup-fee
    instalment (e.g. 50 % before onboarding, 50 % after) billed with the period it names."""

    __tablename__ = "billing_plan_lines"
    __table_args__ = (UniqueConstraint("plan_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("billing_plans.id"), index=True)
    position: Mapped[int]
    kind: Mapped[PlanLineKind] = mapped_column(
        enum_column(PlanLineKind), default=PlanLineKind.RECURRING
    )
    bill_period: Mapped[str | None] = mapped_column(String(7))

    plan: Mapped[BillingPlan] = relationship(back_populates="lines")


class IssuedDocument:
    """The columns an invoice and a credit note share: both are numbered accounting
    documents of one client, with their totals and one archived PDF."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    issued_on: Mapped[date]
    total_excl_vat: Mapped[Decimal] = mapped_column(Amount())
    total_vat: Mapped[Decimal] = mapped_column(Amount())
    total_incl_vat: Mapped[Decimal] = mapped_column(Amount())
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    # SQLAlchemy copies a mixin's columns but not its relationships: declared_attr makes one
    # per mapped class, on that class's own document_id.
    @declared_attr
    def document(cls) -> Mapped[Document | None]:
        return relationship()


class IssuedLine(PricedLineColumns):
    """The columns of a line as issued, on an invoice or a credit note."""

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int]
    total_excl_vat: Mapped[Decimal] = mapped_column(Amount())


class Invoice(IssuedDocument, Base):
    """An issued invoice. Never updated, never deleted (see ``_guard_issued``)."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("plan_id", "period"),)

    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("billing_plans.id"))
    period: Mapped[str | None] = mapped_column(String(7))  # "2026-12" for plan invoices
    due_on: Mapped[date]
    payment_terms_days: Mapped[int]
    payment_method: Mapped[str] = mapped_column(String(100))
    late_interest_rule: Mapped[LateInterestRule] = mapped_column(enum_column(LateInterestRule))
    recovery_indemnity: Mapped[Decimal] = mapped_column(
        Amount(), default=Decimal("40.00"), server_default=text("'40.00'")
    )
    penalty_source: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # Reverse charge (CGI art. 283-2): an EU business client outside France self-assesses
    # the VAT; every line is at 0 %, category AE. Its credit notes follow it.
    reverse_charge: Mapped[bool] = mapped_column(default=False, server_default=false())
    notes: Mapped[str] = mapped_column(Text, default="")  # e.g. the Syntec revision formula

    client: Mapped[Client] = relationship(lazy="joined")
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.position"
    )
    credit_notes: Mapped[list[CreditNote]] = relationship(
        back_populates="invoice", order_by="CreditNote.id"
    )


class InvoiceLine(IssuedLine, Base):
    """A line as issued; a negative unit price is a discount (remise)."""

    __tablename__ = "invoice_lines"
    __table_args__ = (UniqueConstraint("invoice_id", "position"),)

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class CreditNote(IssuedDocument, Base):
    """An avoir: the only way to cancel or correct an issued invoice. Amounts are positive
    (what is credited back)."""

    __tablename__ = "credit_notes"

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)

    invoice: Mapped[Invoice] = relationship(back_populates="credit_notes")
    lines: Mapped[list[CreditNoteLine]] = relationship(
        back_populates="credit_note", order_by="CreditNoteLine.position"
    )


class CreditNoteLine(IssuedLine, Base):
    __tablename__ = "credit_note_lines"
    __table_args__ = (UniqueConstraint("credit_note_id", "position"),)

    credit_note_id: Mapped[int] = mapped_column(ForeignKey("credit_notes.id"), index=True)

    credit_note: Mapped[CreditNote] = relationship(back_populates="lines")


class PaymentKind(LabelledEnum):
    PAYMENT = "payment"  # money received (full or partial)
    FAILED = "failed"  # a direct debit rejected


class PaymentEvent(Base):
    """What happened to an invoice's payment (append-only): the invoice itself never changes."""

    __tablename__ = "invoice_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    kind: Mapped[PaymentKind] = mapped_column(enum_column(PaymentKind))
    amount: Mapped[Decimal] = mapped_column(Amount())
    occurred_on: Mapped[date]
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PendingCharge(Base):
    """A charge to add to the client's next invoice (e.g. the 25 € rejected-debit fee)."""

    __tablename__ = "invoice_pending_charges"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    designation: Mapped[str] = mapped_column(String(500))
    amount: Mapped[Decimal] = mapped_column(Amount())
    vat_rate: Mapped[Decimal] = mapped_column(Amount(6, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    billed_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))


class RateKind(LabelledEnum):
    ECB = "ecb"  # ECB main refinancing operations rate
    LEGAL = "legal"  # French legal interest rate (creditors other than individuals)


class ReferenceRate(Base):
    """A dated setting: the rate in force from ``effective_from`` (entered by admins)."""

    __tablename__ = "reference_rates"
    __table_args__ = (UniqueConstraint("kind", "effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RateKind] = mapped_column(enum_column(RateKind))
    effective_from: Mapped[date]
    rate: Mapped[Decimal] = mapped_column(Amount(8, 4))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InvoiceReminder(Base):
    """A reminder sent for an overdue invoice, one per schedule step."""

    __tablename__ = "invoice_reminders"
    __table_args__ = (UniqueConstraint("invoice_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    step: Mapped[int]  # days late that triggered it (schedule: 1, 15, 30)
    sent_to: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SyntecIndex(Base):
    """The Syntec index value of a month (published monthly; entered by administrators)."""

    __tablename__ = "syntec_indices"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-10"
    value: Mapped[Decimal] = mapped_column(Amount(10, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RevisionClause(Base):
    """A plan's price-revision clause: P = P0 × (S / S0) at each renewal.

    S0 is the index of ``base_month``; S the index of month ``reference_month`` (1–12) before
    the renewal. ``cap_percent`` bounds the increase; ``no_decrease`` keeps P ≥ P0.
    """

    __tablename__ = "revision_clauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("billing_plans.id"), unique=True)
    base_month: Mapped[str] = mapped_column(String(7))
    reference_month: Mapped[int]
    cap_percent: Mapped[Decimal | None] = mapped_column(Amount(6, 2))
    no_decrease: Mapped[bool] = mapped_column(default=False)


class PriceRevision(Base):
    """An applied revision (the plan's prices were multiplied by ``factor``)."""

    __tablename__ = "price_revisions"
    __table_args__ = (UniqueConstraint("plan_id", "renewal_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("billing_plans.id"), index=True)
    renewal_date: Mapped[date]
    s0_month: Mapped[str] = mapped_column(String(7))
    s0: Mapped[Decimal] = mapped_column(Amount(10, 2))
    s_month: Mapped[str] = mapped_column(String(7))
    s: Mapped[Decimal] = mapped_column(Amount(10, 2))
    factor: Mapped[Decimal] = mapped_column(Amount(12, 6))
    formula: Mapped[str] = mapped_column(Text)
    shown_on_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BillingRunStatus(StrEnum):
    QUEUED = "queued"  # asked for on the plans page, its job not started yet
    RUNNING = "running"
    DONE = "done"


# At most one run of a period asked for and not finished: a double click, a second tab or a
# colleague's click joins the run under way instead of queueing another one.
_ONE_OPEN_RUN = text("finished_at IS NULL")


class BillingRun(Base):
    """The issuing of a period's due invoices, asked for on the plans page and done by the
    job ``invoices.issue_period`` (``jobs.issue_requested_run``): what the page shows while
    it waits and once done. The invoices themselves are issued once per plan and period
    whatever the runs (``Invoice``'s unique (plan, period)); this row is only their report."""

    __tablename__ = "billing_runs"
    __table_args__ = (
        Index(
            "uq_billing_runs_open_period",
            "period",
            unique=True,
            sqlite_where=_ONE_OPEN_RUN,
            postgresql_where=_ONE_OPEN_RUN,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    status: Mapped[BillingRunStatus] = mapped_column(enum_column(BillingRunStatus))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The report of the run (``jobs.RunReport``): the numbers it issued, in order, and the
    # plans it left alone or could not bill, with the reason.
    issued_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    already_billed: Mapped[int] = mapped_column(default=0)
    nothing_due: Mapped[int] = mapped_column(default=0)
    refused: Mapped[list[str]] = mapped_column(JSON, default=list)

    @property
    def period_start(self) -> date:
        """The first day of the period (« décembre 2026 » on its page)."""
        year, month = self.period.split("-")
        return date(int(year), int(month), 1)


ISSUED_TYPES: tuple[type[Base], ...] = (Invoice, InvoiceLine, CreditNote, CreditNoteLine)
_ATTACHABLE = frozenset({"document_id"})


class ImmutableIssuedDocument(Exception):
    """Raised at flush when code tries to change or delete an issued invoice/credit note."""


@event.listens_for(Session, "before_flush")
def _guard_issued(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.deleted:
        if isinstance(obj, ISSUED_TYPES):
            raise ImmutableIssuedDocument(f"{type(obj).__name__} émis : suppression interdite")
    for obj in session.dirty:
        if not isinstance(obj, ISSUED_TYPES) or not session.is_modified(obj):
            continue
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            history = state.attrs[attr.key].history
            if not history.has_changes():
                continue
            if attr.key in _ATTACHABLE and history.deleted in ((), [None], (None,)):
                continue
            raise ImmutableIssuedDocument(
                f"{type(obj).__name__} émis : {attr.key} ne peut plus changer (émettre un avoir)"
            )
