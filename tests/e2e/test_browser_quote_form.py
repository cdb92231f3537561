"""The quote form in Chromium at a phone's width (360 × 740) and a laptop's (1280 × 900):
nothing scrolls sideways, every field of a line (the discount's value included) is inside the
screen, the lines are cards on the phone and a table on the laptop, and the totals follow
what is typed (a catalogue line priced from the catalogue, a French decimal comma, a
percentage discount) before anything is saved. Screenshots are kept as artefacts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from app.auth.models import Role
from tests.e2e.axe import assert_no_serious_violations
from tests.e2e.screens import LAPTOP, PHONE, SCREEN_IDS, Screen
from tests.e2e.signin import sign_in
from tests.factories.people import make_user
from tests.factories.sales import make_client, make_product

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

NBSP = "\u202f"  # what Intl.NumberFormat("fr-FR") puts between thousands and before "€"


def _inside(page: Page, selector: str, width: int) -> None:
    for index in range(page.locator(selector).count()):
        box = page.locator(selector).nth(index).bounding_box()
        assert box is not None, selector
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (selector, index, box)


@pytest.mark.parametrize(("screen", "cards"), [(PHONE, True), (LAPTOP, False)], ids=SCREEN_IDS)
def test_the_quote_form_fits_and_totals_as_one_types(
    app: Flask,
    live_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    artefacts: Path,
    screen: Screen,
    cards: bool,
) -> None:
    client_id = make_client(app, legal_name="Boulangerie des Quatre Saisons et Associés")
    product_id = make_product(app, code="PREMIUM", price="390.00", vat="20")
    sales = make_user(app, Role.SALES)
    page = new_context(viewport=screen.viewport).new_page()
    sign_in(page, sales)
    page.goto(f"/devis/nouveau/{client_id}")

    totals = page.locator("#quote-totals")
    expect(totals).to_be_hidden()  # nothing typed, nothing to add up
    # line 1: from the catalogue, price and VAT left to it, 12 months
    page.get_by_role("combobox", name="Catalogue", exact=True).nth(0).select_option(str(product_id))
    page.get_by_role("textbox", name="Quantité", exact=True).nth(0).fill("12")
    # line 2: free, 3,5 days at 59 € with 10 % off, VAT 20 %
    page.get_by_role("textbox", name="Désignation", exact=True).nth(1).fill("Formation")
    page.get_by_role("textbox", name="Quantité", exact=True).nth(1).fill("3,5")
    page.get_by_role("textbox", name="Prix unitaire HT (€)", exact=True).nth(1).fill("59")
    page.get_by_role("combobox", name="Remise", exact=True).nth(1).select_option("percent")
    page.get_by_role("textbox", name="Valeur de la remise", exact=True).nth(1).fill("10")

    lines = page.locator("[data-line-total]")
    expect(lines.nth(0)).to_have_text(f"4{NBSP}680,00{NBSP}€")
    expect(lines.nth(1)).to_have_text(f"185,85{NBSP}€")  # 206,50 less 20,65
    expect(lines.nth(2)).to_have_text("—")
    expect(totals).to_be_visible()
    expect(page.locator("#total-excl")).to_have_text(f"4{NBSP}865,85{NBSP}€")
    expect(page.locator("#total-vat")).to_have_text(f"973,17{NBSP}€")
    expect(page.locator("#total-incl")).to_have_text(f"5{NBSP}839,02{NBSP}€")
    # a global discount of 100 € HT lowers the base, and the VAT with it
    page.get_by_label("Remise globale", exact=True).select_option("amount")
    page.get_by_label("Valeur de la remise globale").fill("100")
    expect(page.locator("#total-excl")).to_have_text(f"4{NBSP}765,85{NBSP}€")
    expect(page.locator("#total-incl")).to_have_text(f"5{NBSP}719,02{NBSP}€")

    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    page.screenshot(path=str(artefacts / f"devis-{screen.width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    _inside(page, "#quote-lines td[data-field='discount_value'] input", screen.width)
    _inside(page, "#quote-lines td.line-total", screen.width)
    _inside(page, "#quote-lines select", screen.width)
    first, second = (page.locator("#quote-lines tbody tr").nth(i).bounding_box() for i in (0, 1))
    assert first is not None and second is not None
    # cards: a line is taller than one field; table: a line is one row of fields
    assert (first["height"] > 150) is cards
    header = page.locator("#quote-lines thead").bounding_box()
    assert header is not None and (header["height"] <= 1) is cards  # kept for screen readers
    assert_no_serious_violations(page)


def test_a_refused_quote_shows_its_errors_at_the_top_on_a_phone(
    app: Flask, live_server: LiveServer, new_context: Callable[..., BrowserContext], artefacts: Path
) -> None:
    """The summary is on screen and focused after the refusal (the fields at fault are far
    below); its link takes the focus to the line's field; no serious accessibility issue."""
    client_id = make_client(app)
    page = new_context(viewport=PHONE.viewport).new_page()
    sign_in(page, make_user(app, Role.SALES))
    page.goto(f"/devis/nouveau/{client_id}")
    page.get_by_role("textbox", name="Désignation", exact=True).nth(1).fill("Formation")
    page.get_by_role("textbox", name="Quantité", exact=True).nth(1).fill("trois")
    page.get_by_role("textbox", name="Prix unitaire HT (€)", exact=True).nth(1).fill("59")
    page.get_by_label("Délai de paiement (jours)").fill("trente")
    page.get_by_role("button", name="Enregistrer le devis").click()

    summary = page.get_by_role("alert").filter(has_text="2 erreurs à corriger")
    expect(summary).to_be_focused()
    # the line was typed, only its quantity is unreadable: not « at least one line »
    expect(summary).not_to_contain_text("au moins une ligne")
    expect(summary).to_be_in_viewport()
    page.screenshot(path=str(artefacts / "quote-error-summary-360.png"))
    _inside(page, "#error-summary", PHONE.width)
    summary.get_by_role("link", name="Ligne 2, Quantité").click()
    expect(page.locator("#lines-1-quantity")).to_be_focused()
    expect(page.locator("#lines-1-quantity")).to_be_in_viewport()
    assert_no_serious_violations(page)
