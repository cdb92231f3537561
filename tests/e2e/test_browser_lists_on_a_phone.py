"""The lists people open on a phone (clients, contracts, invoices, CGV, payments overdue): a
table wider than the screen scrolls inside its own keyboard-reachable region; the page itself
never scrolls sideways, and the accessibility check finds nothing serious."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from PIL import Image
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


def _edge_darkness(png: bytes) -> tuple[float, float]:
    """How dark the 6-pixel strips along the left and right edges of a screenshot are (mean of
    255 minus the grey level): what a shadow on that edge adds."""
    image = Image.open(io.BytesIO(png)).convert("L")
    width, height = image.size

    def strip(left: int) -> float:
        grey_levels = image.crop((left, 0, left + 6, height)).tobytes()  # one byte a pixel
        return sum(255 - level for level in grey_levels) / len(grey_levels)

    return strip(0), strip(width - 6)


def test_a_table_that_scrolls_shows_which_side_hides_columns(
    app: Flask, live_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    """Measured against the same region with the hint switched off, so the table's own text
    and borders cancel out: only the shadow's darkness is left."""
    client_id = outside_the_loop(make_client, app, legal_name="Établissements Longuement Nommés")
    outside_the_loop(make_invoice, app, client_id, with_pdf=False)
    page = new_context(viewport=PHONE.viewport).new_page()
    sign_in(page, make_user(app, Role.SALES))
    page.wait_for_url("**/")
    page.goto("/factures/")
    region = page.locator("main .table-scroll").first
    assert region.evaluate("el => el.scrollWidth > el.clientWidth + 40"), "too narrow to test"

    def darkness_with_and_without_hint() -> tuple[tuple[float, float], tuple[float, float]]:
        with_hint = _edge_darkness(region.screenshot())
        # Through the CSSOM: the pages' Content-Security-Policy refuses inline <style>.
        region.evaluate("el => el.style.setProperty('background', '#fff', 'important')")
        without_hint = _edge_darkness(region.screenshot())
        region.evaluate("el => el.style.removeProperty('background')")
        return with_hint, without_hint

    (left, right), (left_plain, right_plain) = darkness_with_and_without_hint()
    assert right - right_plain > 8, "columns hide on the right: that edge is shaded"
    assert abs(left - left_plain) < 2, "nothing hides on the left yet: no shade there"

    region.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    (left, right), (left_plain, right_plain) = darkness_with_and_without_hint()
    assert left - left_plain > 8, "scrolled to the end, the hidden columns are on the left"
    assert abs(right - right_plain) < 2, "the last column is in view: no shade on the right"
