"""Syntec revision: indices entered by admins, preview then apply at renewal, the next
invoice shows the formula and the indices; a missing index is a clear error."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from decimal import Decimal

from flask import Flask
from pypdf import PdfReader

from app.auth.models import Role
from app.db import transaction
from app.invoices import plans, revision
from app.invoices.models import BillingPlan, Invoice
from tests.factories import annual_plan, count, login_as, make_client, runtime
from tests.integration.fixtures_security import field_errors
from tests.integration.helpers import post_form

NOW = datetime(2026, 12, 20, 9, 0, tzinfo=UTC)


def test_syntec_revision_previewed_applied_and_shown(app: Flask) -> None:
    rt = runtime(app)
    plan_id = annual_plan(app, make_client(app))
    with transaction(rt.session_factory) as session:
        plan = plans.get_plan(session, plan_id)
        revision.set_revision_clause(
            session, plan=plan, base_month="2025-10", reference_month=10, cap_percent=Decimal("5")
        )
        plan_id = plan.id

    admin = login_as(app, Role.ADMIN)
    ok = post_form(admin, "/factures/syntec", {"month": "2025-10", "value": "295,4"})
    assert ok.status_code == 302
    bad = post_form(admin, "/factures/syntec", {"month": "2025-10", "value": "abc"})
    assert bad.status_code == 422 and "value" in field_errors(bad.get_data(as_text=True))
    again = post_form(admin, "/factures/syntec", {"month": "2025-10", "value": "300"})
    assert again.status_code == 422
    assert "déjà saisi" in field_errors(again.get_data(as_text=True))["month"][0]

    runner = app.test_cli_runner()
    args = ["invoices", "revise", "--plan", str(plan_id), "--renewal", "2027-01-01"]
    missing = runner.invoke(args=args)
    assert missing.exit_code == 2
    assert "Indice Syntec de 2026-10 non saisi" in missing.output

    assert (
        post_form(admin, "/factures/syntec", {"month": "2026-10", "value": "301,2"}).status_code
        == 302
    )
    preview = runner.invoke(args=args)
    assert preview.exit_code == 0, preview.output
    assert "P = P0 × (S / S0) = P0 × (301,20 / 295,40)" in preview.output
    assert (
        "1\u202f000,00\xa0€ HT → 1\u202f019,63\xa0€ HT" in preview.output
        and "Aperçu seulement" in preview.output
    )
    with rt.session_factory() as session:
        assert session.get_one(BillingPlan, plan_id).lines[0].unit_price == Decimal("1000.00")

    applied = runner.invoke(args=[*args, "--apply"])
    assert applied.exit_code == 0, applied.output
    twice = runner.invoke(args=[*args, "--apply"])
    assert twice.exit_code == 2 and "déjà appliquée" in twice.output

    run = runner.invoke(args=["invoices", "run", "--period", "2027-01"])
    assert "1\u00a0facture émise" in run.output, run.output
    with rt.session_factory() as session:
        invoice = session.query(Invoice).one()
        assert invoice.total_excl_vat == Decimal("1019.63")
        assert (
            "S0 = indice de 2025-10" in invoice.notes and "S = indice de 2026-10" in invoice.notes
        )
        assert invoice.document is not None
        pdf = rt.store.get(invoice.document.sha256)
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    assert "P = P0 × (S / S0) = P0 × (301,20 / 295,40)" in text, text
    assert count(app, Invoice) == 1
