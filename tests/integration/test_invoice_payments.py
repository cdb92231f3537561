"""Payment follow-up: partial/full payments, rejected debit fee on the next invoice, overdue
list with late interest and indemnity, reminders by email (once per step)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from flask import Flask

from app.auth.models import Role
from app.clients.services import get_client
from app.db import transaction
from app.invoices import issuing, jobs, payments
from app.invoices.errors import PaymentInvalid, RateMissing
from app.invoices.late_payment import PenaltyTerms
from app.invoices.models import Invoice, LateInterestRule
from app.pricing.lines import LineInput
from tests.factories import login_as, make_client, runtime
from tests.factories.invoices import pay_invoice
from tests.integration.helpers import body_text, outbox_messages, post_form

ISSUED = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
LINES = [LineInput("Abonnement annuel", Decimal("1"), Decimal("1000.00"), Decimal("20"))]
FORTY = Decimal("40.00")


def _invoice(app: Flask, client_id: int, **kw: object) -> int:
    with transaction(runtime(app).session_factory) as session:
        invoice = issuing.issue_invoice(
            session,
            client=get_client(session, client_id),
            lines=LINES,
            now=kw.pop("now", ISSUED),  # type: ignore[arg-type]
            actor="t",
            **kw,  # type: ignore[arg-type]
        )
        return invoice.id


# The overdue page lists what is overdue today: the test runs on the day it checks (as_of).
@time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
def test_payments_fee_and_overdue_interest(app: Flask) -> None:
    rt = runtime(app)
    client_id = make_client(app)
    first = _invoice(
        app, client_id, penalties=PenaltyTerms(LateInterestRule.ECB_PLUS_10, FORTY, "CGV 1.0")
    )
    second = _invoice(
        app,
        client_id,
        penalties=PenaltyTerms(LateInterestRule.THREE_TIMES_LEGAL, FORTY, "CGV 1.0"),
    )
    browser = login_as(app, Role.SALES)

    partial = post_form(
        browser,
        f"/factures/{first}",
        {"kind": "payment", "amount": "200,00", "occurred_on": "2026-10-15"},
        url=f"/factures/{first}/paiement",
    )
    assert partial.status_code == 302
    page = browser.get(f"/factures/{first}").get_data(as_text=True)
    assert "1\u202f000,00\xa0€" in page  # 1 200 TTC - 200 received
    too_much = post_form(
        browser,
        f"/factures/{first}",
        {"kind": "payment", "amount": "5000", "occurred_on": "2026-10-15"},
        url=f"/factures/{first}/paiement",
    )
    assert too_much.status_code == 422  # the page again, the error on the amount
    assert "dépasse le reste dû" in too_much.get_data(as_text=True)
    with pytest.raises(PaymentInvalid), transaction(rt.session_factory) as session:
        pay_invoice(session, first, "-1", on=date(2026, 10, 15), now=ISSUED)

    rejected = post_form(
        browser,
        f"/factures/{second}",
        {"kind": "failed", "occurred_on": "2026-10-31", "charge_fee": "y"},
        url=f"/factures/{second}/paiement",
    )
    assert rejected.status_code == 302
    third = _invoice(app, client_id, now=ISSUED + timedelta(days=40))
    with rt.session_factory() as session:
        invoice = session.get(Invoice, third)
        assert invoice is not None
        fee = invoice.lines[-1]
        assert fee.designation.startswith("Frais de rejet de prélèvement du 31 octobre 2026")
        assert (fee.total_excl_vat, fee.vat_rate) == (Decimal("25.00"), Decimal("0"))
        assert invoice.total_incl_vat == Decimal("1225.00")
    fourth = _invoice(app, client_id, now=ISSUED + timedelta(days=41))
    with rt.session_factory() as session:
        assert session.get_one(Invoice, fourth).total_incl_vat == Decimal("1200.00")  # billed once

    as_of = date(2026, 12, 1)  # the first two are due 31 October: 31 days late
    with pytest.raises(RateMissing), rt.session_factory() as session:
        payments.overdue_invoices(session, as_of)
    assert "Aucun taux BCE saisi" in browser.get("/factures/impayees").get_data(as_text=True)
    runner = app.test_cli_runner()
    for kind, rate in (("ecb", "2,15"), ("legal", "3.16")):
        done = runner.invoke(
            args=["invoices", "rate", "--kind", kind, "--from", "2026-07-01", "--rate", rate]
        )
        assert done.exit_code == 0, done.output
    with rt.session_factory() as session:
        rows = payments.overdue_invoices(session, as_of)
        by_id = {row.invoice.id: row for row in rows}
        assert set(by_id) == {first, second}
        late = by_id[first]
        assert (late.amount_due, late.days_late, late.rate) == (
            Decimal("1000.00"),
            31,
            Decimal("12.15"),
        )
        assert late.interest == Decimal("10.32")  # 1000 × 12.15 % × 31 / 365
        assert late.indemnity == Decimal("40.00")
        assert by_id[second].rate == Decimal("9.48")  # 3 × legal rate
    overdue_page = browser.get("/factures/impayees").get_data(as_text=True)
    assert "FAC-2026-000001" in overdue_page and "40,00\xa0€" in overdue_page

    sent = jobs.send_reminders(rt.session_factory, rt.mailer, as_of=as_of, now=ISSUED)
    assert len(sent) == 2
    assert jobs.send_reminders(rt.session_factory, rt.mailer, as_of=as_of, now=ISSUED) == []
    messages = outbox_messages(rt.settings.outbox_dir)
    assert len(messages) == 2
    text = body_text(messages[0])
    assert "indemnité forfaitaire pour frais de recouvrement de 40,00" in text
    assert messages[0]["To"] == "zoe@example.fr"
