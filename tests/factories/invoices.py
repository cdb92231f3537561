"""Invoices, credit notes and billing plans, issued through the services (no HTTP)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clients.services import get_client
from app.contracts.queries import get_contract
from app.db import transaction
from app.invoices import billing_runs
from app.invoices.issuing import get_invoice, issue_credit_note, issue_invoice
from app.invoices.models import BillingFrequency, BillingPlan, Invoice
from app.invoices.payments import record_payment
from app.invoices.plans import create_billing_plan
from app.invoices.workflow import Issued, produce_pdfs
from app.pricing.lines import LineInput
from tests.factories.clock import REFERENCE_NOW
from tests.factories.db import runtime
from tests.factories.sales import make_client
from tests.factories.signing import signed_contract
from tests.factories.space import add_billing_contact


def make_invoice(
    app: Flask, client_id: int, *, with_pdf: bool = True, now: datetime = REFERENCE_NOW
) -> int:
    """An invoice issued at ``now``; ``with_pdf``: its PDF produced after the commit, as the
    issuing page does (without: as after a failure between the two)."""
    with transaction(runtime(app).session_factory) as session:
        invoice = issue_to(
            session,
            client_id,
            [LineInput("Journée de formation", Decimal("1"), Decimal("900"), Decimal("20"))],
            now=now,
        )
    if with_pdf:
        assert produce_pdfs(runtime(app).collaborators(now), [invoice.id]) == 1
    return invoice.id


def make_invoice_to_mail(app: Flask) -> int:
    """An invoice issued to a new client with a billing contact, its PDF not produced yet: its
    mail waits for the PDF (the state the invoice page's progress starts from)."""
    client_id = make_client(app)
    add_billing_contact(app, client_id, "compta@client.example")
    return make_invoice(app, client_id, with_pdf=False)


def issue_to(
    session: Session,
    client_id: int,
    lines: Sequence[LineInput],
    *,
    now: datetime,
    actor: str = "test",
) -> Invoice:
    """An invoice of `lines` issued to the client `client_id` in the caller's transaction."""
    return issue_invoice(
        session, client=get_client(session, client_id), lines=lines, now=now, actor=actor
    )


def pay_invoice(session: Session, invoice_id: int, amount: str, *, on: date, now: datetime) -> None:
    """A payment of ``amount`` € received ``on`` for the invoice, recorded at ``now`` in the
    caller's transaction."""
    record_payment(
        session,
        invoice=get_invoice(session, invoice_id),
        amount=Decimal(amount),
        occurred_on=on,
        now=now,
        actor="test",
    )


def plan_of(
    session: Session,
    contract_id: int,
    *,
    start_date: date,
    now: datetime,
    frequency: BillingFrequency = BillingFrequency.MONTHLY,
    lines: Sequence[LineInput] | None = None,
    setup_fees: Sequence[tuple[LineInput, str]] = (),
    actor: str = "test",
) -> BillingPlan:
    """The billing plan of the signed contract `contract_id`, created in the caller's
    transaction (lines: the contract's quote lines unless given)."""
    return create_billing_plan(
        session,
        contract=get_contract(session, contract_id),
        frequency=frequency,
        start_date=start_date,
        now=now,
        actor=actor,
        lines=lines,
        setup_fees=setup_fees,
    )


def make_credit_note(
    app: Flask, client_id: int, *, with_pdf: bool = True, now: datetime = REFERENCE_NOW
) -> int:
    """An avoir cancelling a new invoice, both issued at ``now``, its PDF produced as the
    issuing page does."""
    invoice_id = make_invoice(app, client_id, now=now)
    with transaction(runtime(app).session_factory) as session:
        note = issue_credit_note(
            session,
            invoice=get_invoice(session, invoice_id),
            reason="Annulation",
            now=now,
            actor="test",
        )
    if with_pdf:
        collab = runtime(app).collaborators(now)
        assert produce_pdfs(collab, [note.id], kind=Issued.CREDIT_NOTE) == 1
    return note.id


def plan_for(app: Flask, contract_id: int, *, now: datetime = REFERENCE_NOW) -> int:
    """The billing plan of a signed contract, created at ``now`` on first use (one per
    contract)."""
    with transaction(runtime(app).session_factory) as session:
        existing = session.scalar(
            select(BillingPlan.id).where(BillingPlan.contract_id == contract_id)
        )
        if existing is not None:
            return int(existing)
        return plan_of(session, contract_id, start_date=date(2026, 1, 1), now=now).id


def annual_plan(
    app: Flask, client_id: int, unit_price: str = "1000.00", *, now: datetime = REFERENCE_NOW
) -> int:
    """A signed contract for ``client_id`` and its annual plan from 1 January 2026, created
    at ``now``: one subscription line at ``unit_price`` € HT (the Syntec and plan-page tests
    revise it)."""
    contract_id = signed_contract(app, client_id)
    with transaction(runtime(app).session_factory) as session:
        plan = plan_of(
            session,
            contract_id,
            frequency=BillingFrequency.ANNUAL,
            start_date=date(2026, 1, 1),
            now=now,
            lines=[
                LineInput("Abonnement annuel", Decimal("1"), Decimal(unit_price), Decimal("20"))
            ],
        )
        return plan.id


def billing_run(app: Flask, period: str = "2026-01", *, now: datetime = REFERENCE_NOW) -> int:
    """A billing run of ``period`` asked for at ``now``, as the plans page's button does,
    its job not run (it waits: « en attente »)."""
    with transaction(runtime(app).session_factory) as session:
        parsed = billing_runs.parse_period(period)
        run, _new = billing_runs.request_run(session, parsed, requested_by_id=None, now=now)
        return run.id
