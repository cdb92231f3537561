"""Billing plans on the web: the list, a plan's page, its Syntec revision clause, the
revision previewed (nothing written) then applied once; bad input and a missing index
answer clear messages and change nothing."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from decimal import Decimal

from flask import Flask

from app.auth.models import Role
from app.invoices.models import BillingPlan, PriceRevision, RevisionClause
from tests.factories import annual_plan, count, login_as, make_client, runtime
from tests.integration.fixtures_security import field_errors
from tests.integration.helpers import post_form

NOW = datetime(2026, 12, 20, 9, 0, tzinfo=UTC)


def _plan(app: Flask) -> int:
    return annual_plan(app, make_client(app, legal_name="<b>Gras</b> SA"))


def test_clause_preview_then_apply_once(app: Flask) -> None:
    plan_id = _plan(app)
    admin = login_as(app, Role.ADMIN)
    listing = admin.get("/factures/plans").get_data(as_text=True)
    assert f"/factures/plans/{plan_id}" in listing and "&lt;b&gt;Gras&lt;/b&gt; SA" in listing
    page_url = f"/factures/plans/{plan_id}"
    assert "Ce plan n'a pas de clause de révision." in admin.get(page_url).get_data(as_text=True)

    saved = post_form(
        admin,
        page_url,
        {"base_month": "2025-10", "reference_month": "10", "cap_percent": "5"},
        url=f"{page_url}/clause",
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    for month, value in (("2025-10", "295,4"), ("2026-10", "301,2")):
        assert (
            post_form(admin, "/factures/syntec", {"month": month, "value": value}).status_code
            == 302
        )

    preview = post_form(
        admin, page_url, {"renewal": "2027-01-01", "preview": "1"}, url=f"{page_url}/revision"
    )
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert "P = P0 × (S / S0) = P0 × (301,20 / 295,40)" in text
    assert "1\u202f019,63\xa0€" in text  # the revised price, shown, not applied
    assert count(app, PriceRevision) == 0

    applied = post_form(
        admin, page_url, {"renewal": "2027-01-01", "apply": "1"}, url=f"{page_url}/revision"
    )
    assert applied.status_code == 302
    with runtime(app).session_factory() as session:
        plan = session.get(BillingPlan, plan_id)
        assert plan is not None and plan.lines[0].unit_price == Decimal("1019.63")
    again = post_form(
        admin, page_url, {"renewal": "2027-01-01", "apply": "1"}, url=f"{page_url}/revision"
    )
    assert again.status_code == 422
    assert "déjà appliquée" in field_errors(again.get_data(as_text=True))["renewal"][0]
    assert count(app, PriceRevision) == 1


def test_bad_clause_and_missing_index_change_nothing(app: Flask) -> None:
    plan_id = _plan(app)
    admin = login_as(app, Role.ADMIN)
    page_url = f"/factures/plans/{plan_id}"
    for data, name in (
        ({"base_month": "octobre", "reference_month": "10"}, "base_month"),
        ({"base_month": "2025-10", "reference_month": "13"}, "reference_month"),
        (
            {"base_month": "2025-10", "reference_month": "10", "cap_percent": "beaucoup"},
            "cap_percent",
        ),
        ({"base_month": "2025-10", "reference_month": "10", "cap_percent": "150"}, "cap_percent"),
    ):
        response = post_form(admin, page_url, data, url=f"{page_url}/clause")
        assert response.status_code == 422, data
        assert name in field_errors(response.get_data(as_text=True)), data
    assert count(app, RevisionClause) == 0

    assert (
        post_form(
            admin,
            page_url,
            {"base_month": "2025-10", "reference_month": "10"},
            url=f"{page_url}/clause",
        ).status_code
        == 302
    )
    missing = post_form(
        admin, page_url, {"renewal": "2027-01-01", "preview": "1"}, url=f"{page_url}/revision"
    )
    assert missing.status_code == 422
    assert "Indice Syntec de 2025-10 non saisi" in missing.get_data(as_text=True)
    not_renewal = post_form(
        admin, page_url, {"renewal": "2027-03-15", "apply": "1"}, url=f"{page_url}/revision"
    )
    assert not_renewal.status_code == 422
    assert "renewal" in field_errors(not_renewal.get_data(as_text=True))
    assert count(app, PriceRevision) == 0

    sales = login_as(app, Role.SALES)
    assert sales.get(page_url).status_code == 200  # sales see plans, only admins revise
    assert "revision-clause" not in sales.get(page_url).get_data(as_text=True)


def test_with_no_contract_to_plan_the_page_says_why(app: Flask) -> None:
    """Nothing to choose in « Contrat signé » means either every signed contract has its plan
    or none is signed yet: the page says which, not « all have their plan » on a fresh
    installation."""
    admin = login_as(app, Role.ADMIN)
    fresh = html.unescape(admin.get("/factures/plans").get_data(as_text=True))
    assert "Aucun contrat signé pour l'instant" in fresh
    assert "Tous les contrats signés ont leur plan" not in fresh
    annual_plan(app, make_client(app))
    planned = admin.get("/factures/plans").get_data(as_text=True)
    assert "Tous les contrats signés ont leur plan de facturation." in planned
    assert "Aucun contrat signé pour" not in planned
