"""A signed contract's billing plan, created from the web and filled from its quote's
commercial terms; the billing run then bills the monthly price, the setup-fee schedule
and the one-off training exactly as the quote said."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from flask import Flask
from sqlalchemy import select

from app.auth.models import Role
from app.clients.services import get_client
from app.db import transaction, utcnow
from app.invoices import jobs
from app.invoices.models import BillingFrequency, BillingPlan, Invoice, PlanLineKind
from app.quotes.models import BillingPeriod, DiscountKind, PaymentMethod
from app.quotes.rules import CommercialTerms, Discount, LineInput
from app.quotes.services import create_quote
from tests.integration.fixtures_security import (
    count,
    field_errors,
    login_as,
    make_client,
    make_contract,
    publish_short_cgv,
    runtime,
    send_contract,
    sign_through_services,
)
from tests.integration.helpers import post_form

D = Decimal


def _signed_monthly_contract(app: Flask) -> int:
    rt = runtime(app)
    publish_short_cgv(app)
    client_id = make_client(app)
    with transaction(rt.session_factory) as session:
        now = utcnow()
        quote = create_quote(
            session,
            client=get_client(session, client_id),
            lines=[
                LineInput(
                    "Abonnement Premium",
                    D("12"),
                    D("100.00"),
                    D("20"),
                    Discount(DiscountKind.PERCENT, D("10")),
                    "mois",
                ),
                LineInput("Frais de mise en service", D("1"), D("1000.00"), D("20")),
                LineInput("Journée de formation", D("2"), D("900.00"), D("20"), unit="jour"),
            ],
            particular_terms="",
            today=now.date(),
            now=now,
            actor="t",
            terms=CommercialTerms(
                commitment_months=12,
                billing_period=BillingPeriod.MONTHLY,
                payment_method=PaymentMethod.DIRECT_DEBIT,
                payment_terms_days=0,
            ),
        )
        quote_id = quote.id
    contract_id = make_contract(app, quote_id)
    sign_through_services(app, send_contract(app, contract_id))
    return contract_id


def test_the_plan_follows_the_quote_terms_and_bills_them(app: Flask) -> None:
    contract_id = _signed_monthly_contract(app)
    sales = login_as(app, Role.SALES)
    assert f'value="{contract_id}"' in sales.get("/factures/plans").get_data(as_text=True)

    created = post_form(
        sales,
        "/factures/plans",
        {"contract_id": str(contract_id), "start_date": "2027-01-01"},
        url="/factures/plans/nouveau",
    )

    assert created.status_code == 302, created.get_data(as_text=True)
    rt = runtime(app)
    with rt.session_factory() as session:
        plan = session.scalars(select(BillingPlan)).one()
        assert plan.frequency is BillingFrequency.MONTHLY
        assert (plan.payment_method, plan.payment_terms_days) == ("Prélèvement SEPA", 0)
        lines = [
            (ln.designation, ln.quantity, ln.unit_price, ln.kind, ln.bill_period)
            for ln in plan.lines
        ]
    assert lines[0] == ("Abonnement Premium", D("1"), D("90.00"), PlanLineKind.RECURRING, None)
    assert [(ln[2], ln[4]) for ln in lines[1:]] == [
        (D("500.00"), "2027-01"),
        (D("500.00"), "2027-02"),
        (D("1800.00"), "2027-01"),
    ]

    at = datetime(2027, 1, 1, 8, 0, tzinfo=UTC)
    for period in ("2027-01", "2027-02", "2027-03"):
        jobs.run_period(rt.session_factory, rt.store, rt.settings.vendor, period, at)
    with rt.session_factory() as session:
        billed = {
            i.period: i.total_excl_vat
            for i in session.scalars(select(Invoice).order_by(Invoice.id))
        }
    assert billed == {"2027-01": D("2390.00"), "2027-02": D("590.00"), "2027-03": D("90.00")}

    again = post_form(
        sales,
        "/factures/plans",
        {"contract_id": str(contract_id), "start_date": "2027-01-01"},
        url="/factures/plans/nouveau",
    )
    assert again.status_code == 422  # the contract has its plan: no longer offered
    assert "contract_id" in field_errors(again.get_data(as_text=True))
    assert count(app, BillingPlan) == 1


def test_a_plan_needs_a_start_date_and_a_role_that_invoices(app: Flask) -> None:
    contract_id = _signed_monthly_contract(app)
    sales = login_as(app, Role.SALES)
    missing = post_form(
        sales, "/factures/plans", {"contract_id": str(contract_id)}, url="/factures/plans/nouveau"
    )
    assert missing.status_code == 422
    assert "start_date" in field_errors(missing.get_data(as_text=True))
    archivist = login_as(app, Role.ARCHIVIST)
    assert archivist.post("/factures/plans/nouveau", data={}).status_code in (400, 403)
    assert count(app, BillingPlan) == 0
