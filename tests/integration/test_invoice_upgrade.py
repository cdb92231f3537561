"""An upgrade during a period already billed (in advance): the difference is billed pro rata
temporis for the days left, on the next invoice or on a complementary invoice issued at
once; exact amounts; the same change run twice owes nothing twice; bad input is refused
without writing anything nor consuming a number."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import transaction
from app.invoices import issuing, revision
from app.invoices.errors import InvoiceInvalid
from app.invoices.models import BillingFrequency, BillingPlan, Invoice, PendingCharge
from app.pricing.lines import LineInput
from tests.factories import (
    count,
    plan_of,
    runtime,
    signed_contract,
)

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
MONTHLY = [LineInput("Licence utilisateur", Decimal("1"), Decimal("100.00"), Decimal("20"))]


def _plan(app: Flask, frequency: BillingFrequency, start: date) -> int:
    contract_id = signed_contract(app)
    with transaction(runtime(app).session_factory) as session:
        plan = plan_of(
            session,
            contract_id,
            frequency=frequency,
            start_date=start,
            now=NOW,
            lines=MONTHLY
            if frequency == BillingFrequency.MONTHLY
            else [LineInput("Abonnement annuel", Decimal("1"), Decimal("1200.00"), Decimal("20"))],
            actor="t",
        )
        return plan.id


def _bill(app: Flask, plan_id: int, period: str) -> Invoice | None:
    with transaction(runtime(app).session_factory) as session:
        plan = session.get(BillingPlan, plan_id)
        assert plan is not None
        invoice = issuing.issue_period_invoice(
            session, plan=plan, period=period, now=NOW, actor="t"
        )
        if invoice is not None:
            session.expunge(invoice)
        return invoice


def _change(app: Flask, plan_id: int, **kwargs: object) -> revision.PlanChange:
    with transaction(runtime(app).session_factory) as session:
        plan = session.get(BillingPlan, plan_id)
        assert plan is not None
        change = revision.change_plan_line(session, plan=plan, now=NOW, actor="t", **kwargs)  # type: ignore[arg-type]
        for found in (change.charge, change.invoice):
            if found is not None:
                session.expunge(found)
        return change


def test_monthly_upgrade_is_billed_pro_rata_on_the_next_invoice(app: Flask) -> None:
    plan_id = _plan(app, BillingFrequency.MONTHLY, date(2026, 12, 1))
    december = _bill(app, plan_id, "2026-12")
    assert december is not None and december.total_excl_vat == Decimal("100.00")

    upgrade = {"position": 1, "quantity": Decimal("3"), "unit_price": Decimal("100.00")}
    change = _change(app, plan_id, effective=date(2026, 12, 11), **upgrade)
    # (300 − 100) × 21 days left (11 to 31 December) / 31 = 135.483… → 135.48
    assert change.charge is not None and change.invoice is None
    assert change.charge.amount == Decimal("135.48")
    assert (
        "du 11 décembre 2026 au 31 décembre 2026 (21 jours de la période du 1er décembre 2026 "
        "au 31 décembre 2026)" in change.charge.designation
    )
    assert "2026-12" not in change.charge.designation  # a period in words, never a code

    again = _change(app, plan_id, effective=date(2026, 12, 11), **upgrade)
    assert again.charge is None  # the line already says 3: nothing owed twice
    assert count(app, PendingCharge) == 1

    january = _bill(app, plan_id, "2027-01")
    assert january is not None
    assert january.total_excl_vat == Decimal("435.48")  # 3 × 100 + 135.48
    assert january.total_vat == Decimal("87.10")  # 20 % of 435.48 = 87.096
    assert january.total_incl_vat == Decimal("522.58")
    assert _bill(app, plan_id, "2027-02") is not None  # the charge went once, on January
    with runtime(app).session_factory() as session:
        february = session.scalars(select(Invoice).where(Invoice.period == "2027-02")).one()
        assert february.total_excl_vat == Decimal("300.00")
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "billing_plan.line_changed")
        ).all()
        assert [json.loads(e.details)["pro_rata"] for e in events] == ["135.48", "0.00"]


def test_annual_upgrade_with_an_immediate_complementary_invoice(app: Flask) -> None:
    plan_id = _plan(app, BillingFrequency.ANNUAL, date(2027, 1, 1))
    assert _bill(app, plan_id, "2027-01") is not None
    change = _change(
        app,
        plan_id,
        position=1,
        quantity=Decimal("1"),
        unit_price=Decimal("1800.00"),
        effective=date(2027, 7, 1),
        immediate=True,
    )
    # (1800 − 1200) × 184 days (1 July to 31 December 2027) / 365 = 302.465… → 302.47
    assert change.charge is not None and change.charge.amount == Decimal("302.47")
    # A yearly period in words: "période 2027-01" would name only the month the year begins.
    assert change.charge.designation.endswith(
        "du 1er juillet 2027 au 31 décembre 2027 "
        "(184 jours de la période du 1er janvier 2027 au 31 décembre 2027)"
    )
    invoice = change.invoice
    assert invoice is not None and invoice.period is None
    assert invoice.total_excl_vat == Decimal("302.47")
    assert invoice.total_vat == Decimal("60.49")
    assert invoice.total_incl_vat == Decimal("362.96")
    with runtime(app).session_factory() as session:
        charge = session.get(PendingCharge, change.charge.id)
        assert charge is not None and charge.billed_invoice_id == invoice.id
        assert invoice.number == "FAC-2026-000002"  # right after the period invoice


def test_decrease_and_refusals_owe_nothing_and_write_nothing(app: Flask) -> None:
    plan_id = _plan(app, BillingFrequency.MONTHLY, date(2026, 12, 1))
    _bill(app, plan_id, "2026-12")
    refusals = [
        ({"position": 9, "quantity": Decimal("2")}, "position"),
        ({"position": 1, "quantity": Decimal("0")}, "quantity"),
        ({"position": 1, "quantity": Decimal("2"), "effective": date(2026, 11, 1)}, "effective"),
        # January is not billed yet: a change there starts on 1 January or waits for its bill
        ({"position": 1, "quantity": Decimal("2"), "effective": date(2027, 1, 15)}, "effective"),
        ({"position": 1, "unit_price": Decimal("-5")}, "unit_price"),
    ]
    for overrides, field in refusals:
        arguments: dict[str, object] = {
            "position": 1,
            "quantity": Decimal("1"),
            "unit_price": Decimal("100.00"),
            "effective": date(2026, 12, 15),
            **overrides,
        }
        with pytest.raises(InvoiceInvalid) as refused:
            _change(app, plan_id, immediate=True, **arguments)
        assert field in refused.value.errors, (overrides, refused.value.errors)
        if overrides.get("effective") == date(2027, 1, 15):
            assert refused.value.errors["effective"].startswith(
                "La période du 1er janvier 2027 au 31 janvier 2027 n'est pas encore facturée : "
                "la modification doit prendre effet le 1er janvier 2027"
            )
    assert count(app, PendingCharge) == 0 and count(app, Invoice) == 1

    decrease = _change(
        app,
        plan_id,
        position=1,
        quantity=Decimal("1"),
        unit_price=Decimal("60.00"),
        effective=date(2026, 12, 15),
    )
    assert decrease.charge is None and decrease.invoice is None
    january_first = _change(
        app,
        plan_id,
        position=1,
        quantity=Decimal("2"),
        unit_price=Decimal("60.00"),
        effective=date(2027, 1, 1),
    )
    assert january_first.charge is None  # January will be billed whole at the new amount
    january = _bill(app, plan_id, "2027-01")
    assert january is not None and january.total_excl_vat == Decimal("120.00")
