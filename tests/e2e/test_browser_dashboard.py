"""The sales dashboard in Chromium at a phone's width (360 × 740) and a laptop's (1280 × 900):
the panels and the search are there and readable, nothing overflows sideways, and on the
laptop the panels sit side by side. Screenshots are kept in the test's temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, expect

from app.auth.models import Role
from tests.e2e.axe import assert_no_serious_violations
from tests.e2e.screens import LAPTOP, PHONE, SCREEN_IDS, Screen, outside_the_loop
from tests.e2e.signin import sign_in
from tests.factories.people import make_user
from tests.factories.sales import make_client, make_contract, make_quote, publish_short_cgv
from tests.factories.signing import send_contract

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e


def _sent_contract(app: Flask) -> None:
    publish_short_cgv(app)
    client_id = make_client(app, legal_name="Boulangerie des Quatre Saisons et Associés")
    send_contract(app, make_contract(app, make_quote(app, client_id)))


@pytest.mark.parametrize(
    ("screen", "columns"), [(PHONE, "one"), (LAPTOP, "several")], ids=SCREEN_IDS
)
def test_the_dashboard_reads_on_a_phone_and_a_laptop(
    app: Flask,
    live_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    tmp_path: Path,
    screen: Screen,
    columns: str,
) -> None:
    outside_the_loop(_sent_contract, app)
    sales = make_user(app, Role.SALES)

    page = new_context(viewport=screen.viewport).new_page()
    sign_in(page, sales)

    waiting = page.locator("#waiting")
    expect(waiting).to_contain_text("Boulangerie des Quatre Saisons et Associés")
    expect(waiting).to_contain_text("attend Zoë Martin")
    for panel in ("#expiring", "#to-countersign", "#declined", "#seal-failures", "#activity"):
        expect(page.locator(panel)).to_be_visible()
    page.screenshot(path=str(tmp_path / f"dashboard-{screen.width}.png"), full_page=True)
    assert_no_serious_violations(page)

    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    first = waiting.bounding_box()
    second = page.locator("#expiring").bounding_box()
    assert first is not None and second is not None
    assert first["x"] >= 0 and first["x"] + first["width"] <= screen.width
    side_by_side = abs(first["y"] - second["y"]) < 1 and second["x"] > first["x"]
    assert side_by_side is (columns == "several")

    search = page.get_by_label("Rechercher un client, un devis ou un contrat")
    search.fill("quatre saisons")
    page.get_by_role("button", name="Rechercher").click()
    results = page.locator("#search-results")
    expect(results).to_contain_text("Client : Boulangerie des Quatre Saisons et Associés")
    page.screenshot(path=str(tmp_path / f"dashboard-search-{screen.width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
