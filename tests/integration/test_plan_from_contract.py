"""A signed contract's billing plan, created from the web and filled from its quote's
commercial terms; the billing run then bills the monthly price, the setup-fee schedule
and the one-off training exactly as the quote said."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from html import unescape

import pytest
from facturx import get_facturx_xml_from_pdf
from flask import Flask
from sqlalchemy import select

from app.auth.models import Role
from app.clients.services import get_client, terminate
from app.contracts.queries import get_contract
from app.db import transaction, utcnow
from app.invoices import jobs
from app.invoices.errors import InvoiceInvalid, PeriodAfterTermination
from app.invoices.issuing import issue_period_invoice
from app.invoices.models import BillingFrequency, BillingPlan, Invoice, PlanLineKind
from app.invoices.plans import create_billing_plan, create_plan_from_contract
from app.pricing.discounts import NO_DISCOUNT, Discount, DiscountKind
from app.pricing.lines import LineInput
from app.quotes.commercial_terms import BillingPeriod, CommercialTerms, PaymentMethod
from app.quotes.services import create_quote, totals_of
from tests import en16931
from tests.factories import (
    count,
    login_as,
    make_client,
    publish_short_cgv,
    runtime,
    signed_from_quote,
)
from tests.integration.fixtures_security import field_errors
from tests.integration.helpers import post_form

D = Decimal


def _signed_monthly_contract(
    app: Flask,
    lines: list[LineInput] | None = None,
    global_discount: Discount = NO_DISCOUNT,
) -> int:
    rt = runtime(app)
    publish_short_cgv(app)
    client_id = make_client(app)
    with transaction(rt.session_factory) as session:
        now = utcnow()
        quote = create_quote(
            session,
            client=get_client(session, client_id),
            lines=lines
            or [
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
            global_discount=global_discount,
            terms=CommercialTerms(
                commitment_months=12,
                billing_period=BillingPeriod.MONTHLY,
                payment_method=PaymentMethod.DIRECT_DEBIT,
                payment_terms_days=0,
            ),
        )
        quote_id = quote.id
    return signed_from_quote(app, quote_id)


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
        jobs.run_period(rt.collaborators(at), period)
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


def _plan_of(app: Flask, contract_id: int, start: date) -> int:
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        plan = create_plan_from_contract(
            session,
            contract=get_contract(session, contract_id),
            start_date=start,
            now=utcnow(),
            actor="t",
        )
        return plan.id


def _terminate(app: Flask, contract_id: int, on: date) -> None:
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        client = get_contract(session, contract_id).client
        terminate(session, client, on=on, reason="", actor="t", now=utcnow())


def test_twelve_months_bill_the_signed_total_to_the_cent(app: Flask) -> None:
    """The quote that billed 11 094,05 € HT over its commitment against 11 093,95 € signed."""
    contract_id = _signed_monthly_contract(
        app,
        [
            LineInput("Abonnement Premium", D("12"), D("486.16"), D("20"), unit="mois"),
            LineInput("Utilisateurs", D("8"), D("480.49"), D("20"), unit="utilisateur/an"),
            LineInput("Frais de mise en service", D("1"), D("2000.00"), D("20")),
        ],
        Discount(DiscountKind.PERCENT, D("5")),
    )
    rt = runtime(app)
    with rt.session_factory() as session:
        signed = totals_of(get_contract(session, contract_id).quote)
    assert signed.total_excl_vat == D("11093.95")
    _plan_of(app, contract_id, date(2027, 1, 1))

    at = datetime(2027, 1, 1, 8, 0, tzinfo=UTC)
    for month in range(1, 13):
        jobs.run_period(rt.collaborators(at), f"2027-{month:02d}")

    with rt.session_factory() as session:
        invoices = session.scalars(select(Invoice)).all()
        assert len(invoices) == 12
        assert sum(i.total_excl_vat for i in invoices) == D("11093.95")
        last = session.scalars(select(Invoice).where(Invoice.period == "2027-12")).one()
        adjustments = [ln.total_excl_vat for ln in last.lines if "arrondi" in ln.designation]
        assert last.document is not None
        pdf = rt.store.get(last.document.sha256)
    assert adjustments == [D("0.02"), D("-0.12")]
    # the positive adjustment is a line, the negative one a document-level allowance (BG-20):
    # the December Factur-X passes the EN 16931 business rules
    _, xml = get_facturx_xml_from_pdf(pdf, check_xsd=True)
    assert not en16931.check(xml).rules_broken, en16931.check(xml).violations


def test_no_period_after_the_termination_is_billed_and_what_remains_is_shown(
    app: Flask,
) -> None:
    contract_id = _signed_monthly_contract(app)  # 12 months at 90 € HT, from January
    plan_id = _plan_of(app, contract_id, date(2027, 1, 1))
    _terminate(app, contract_id, date(2027, 3, 15))
    rt = runtime(app)
    at = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)

    march = jobs.run_period(rt.collaborators(at), "2027-03")
    april = jobs.run_period(rt.collaborators(at), "2027-04")

    assert len(march.issued) == 1  # begun before the termination: billed in advance
    assert april.issued == []
    assert april.refused == [
        f"plan {plan_id} : Le client Boulangerie Lefèvre & Fils est résilié au 15 mars 2027 : "
        "la période 2027-04 commence après la résiliation, elle n'est pas facturée."
    ]
    with rt.session_factory() as session:
        plan = session.get(BillingPlan, plan_id)
        assert plan is not None
        with pytest.raises(PeriodAfterTermination):
            issue_period_invoice(session, plan=plan, period="2027-05", now=at, actor="t")
    assert count(app, Invoice, Invoice.period == "2027-04") == 0
    cli = app.test_cli_runner().invoke(args=["invoices", "run", "--period", "2027-06"])
    assert "commence après la résiliation" in cli.output
    assert count(app, Invoice, Invoice.period == "2027-06") == 0

    page = login_as(app, Role.SALES).get(f"/factures/plans/{plan_id}").get_data(as_text=True)
    shown = page.split('id="remaining-due">')[1].split("</p>")[0]
    remaining = " ".join(unescape(re.sub(r"<[^>]+>", "", shown)).split())
    assert "résilié au 15 mars 2027" in remaining
    assert "(31 décembre 2027)" in remaining  # the end of the 12-month commitment
    assert "810,00 € HT (972,00 € TTC)" in remaining  # April to December: 9 × 90 € HT
    assert "9 périodes : 2027-04, 2027-05" in remaining and "2027-12." in remaining


def test_a_plan_cannot_start_after_the_termination(app: Flask) -> None:
    contract_id = _signed_monthly_contract(app)
    _terminate(app, contract_id, date(2027, 3, 15))
    sales = login_as(app, Role.SALES)

    refused = post_form(
        sales,
        "/factures/plans",
        {"contract_id": str(contract_id), "start_date": "2027-04-01"},
        url="/factures/plans/nouveau",
    )

    assert refused.status_code == 422
    assert field_errors(refused.get_data(as_text=True))["start_date"] == [
        "Le client est résilié au 15 mars 2027 : un plan de facturation ne peut pas commencer "
        "après la résiliation."
    ]
    assert count(app, BillingPlan) == 0
    # every problem at once, and nothing written
    with (
        pytest.raises(InvoiceInvalid) as refused_too,
        transaction(runtime(app).session_factory) as session,
    ):
        create_billing_plan(
            session,
            contract=get_contract(session, contract_id),
            frequency=BillingFrequency.MONTHLY,
            start_date=date(2027, 4, 1),
            now=utcnow(),
            actor="t",
            payment_terms_days=90,
            lines=[LineInput(" ", D("1"), D("10.00"), D("20"))],
        )
    assert set(refused_too.value.errors) == {
        "start_date",
        "payment_terms_days",
        "lines-0-designation",
    }
    assert count(app, BillingPlan) == 0
