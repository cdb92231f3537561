"""The lists people open on a phone (clients, contracts, invoices, CGV, payments overdue): a
table wider than the screen scrolls inside its own keyboard-reachable region; the page itself
never scrolls sideways, and the accessibility check finds nothing serious."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext

from app.auth.models import Role
from tests.e2e.axe import assert_no_serious_violations
from tests.e2e.screens import PHONE, outside_the_loop
from tests.e2e.signin import sign_in
from tests.factories.invoices import make_invoice
from tests.factories.people import make_user
from tests.factories.sales import make_client

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

PAGES = ["/clients/", "/contrats/", "/factures/", "/factures/impayees", "/cgv/"]


def test_the_lists_fit_a_phone(
    app: Flask, live_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    def _data() -> None:
        client_id = make_client(app, legal_name="Société des Établissements Très Longuement Nommés")
        make_invoice(app, client_id, with_pdf=False)

    outside_the_loop(_data)
    sales = make_user(app, Role.SALES)
    page = new_context(viewport=PHONE.viewport).new_page()
    sign_in(page, sales)
    page.wait_for_url("**/")

    for path in PAGES:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        tables = page.locator("main table")
        assert tables.count() >= 1, path
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        for index in range(tables.count()):
            region = tables.nth(index).locator("xpath=..")
            assert region.get_attribute("class") == "table-scroll", path
        assert_no_serious_violations(page)
