"""The signer's journey on a phone (360 × 740) and a laptop (1280 × 900) in Chromium: the
vendor named at the top, the identity check on the first screen, the code read from the
outbox, the contract as page images (no sideways scrolling), the consent, the signature,
then what happens next. Each step passes axe-core (WCAG 2.1 AA, no serious violation) and is
kept as a screenshot (the `artefacts` folder)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from app.config import Settings
from tests.e2e.axe import assert_no_serious_violations
from tests.e2e.screens import ON_A_PHONE_AND_A_LAPTOP, Screen, outside_the_loop
from tests.factories.sales import make_contracted_client, publish_short_cgv
from tests.integration.helpers import last_code, send_from_sales_page

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e


def _sent(app: Flask) -> str:
    publish_short_cgv(app)
    return send_from_sales_page(app, make_contracted_client(app).contract_id)[1]


def _step(page: Page, artefacts: Path, name: str, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
    page.screenshot(path=str(artefacts / f"signature-{name}-{width}.png"), full_page=True)
    assert_no_serious_violations(page)


@ON_A_PHONE_AND_A_LAPTOP
def test_a_signer_signs_on_a_phone_and_a_laptop(
    app: Flask,
    settings: Settings,
    live_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    artefacts: Path,
    screen: Screen,
) -> None:
    link = outside_the_loop(_sent, app)
    page = new_context(viewport=screen.viewport).new_page()
    page.goto(link)

    # 1. who asks, and the identity check on the first screen
    expect(page.locator("#who-asks")).to_contain_text("Éditeur Démo SAS vous invite à signer")
    expect(page.locator(".topbar")).to_contain_text("Éditeur Démo SAS")
    expect(page.locator("#support-email")).to_have_text("support@editeur-demo.fr")
    send_code = page.get_by_role("button", name="Recevoir un code par e-mail")
    box = send_code.bounding_box()
    assert box is not None and box["y"] + box["height"] <= screen.height, "code below the fold"
    _step(page, artefacts, "1-code", screen.width)

    send_code.click()
    expect(page.locator("#notice")).to_contain_text("Un code à 6 chiffres a été envoyé")
    page.get_by_label("Code reçu par e-mail").fill(last_code(settings.outbox_dir, "zoe@example.fr"))
    page.get_by_role("button", name="Valider le code").click()
    expect(page.locator("#authenticated")).to_be_visible()

    # 2. read: every page an image as wide as the column, the first one loaded
    images = page.locator("#pages img")
    assert images.count() >= 2
    first = images.first
    first.scroll_into_view_if_needed()
    expect(first).to_have_js_property("complete", True)
    assert first.evaluate("img => img.naturalWidth") > 0
    shown = first.bounding_box()
    assert shown is not None and shown["width"] <= screen.width and shown["x"] >= 0
    assert images.nth(1).get_attribute("loading") == "lazy"
    expect(page.get_by_role("link", name="Télécharger le contrat (PDF)")).to_be_visible()
    _step(page, artefacts, "2-lire", screen.width)

    # 3. consent, 4. sign
    page.locator("#accept_cgv").check()
    page.locator("#agree").check()
    page.locator("#consent").scroll_into_view_if_needed()
    _step(page, artefacts, "3-consentement", screen.width)
    page.get_by_role("button", name="Signer le contrat").click()

    # after: the signed copy and where it was sent
    expect(page.get_by_role("heading", level=1)).to_have_text("Merci, le contrat est signé")
    expect(page.locator("main")).to_contain_text("zoe@example.fr un e-mail d'Éditeur Démo SAS")
    expect(page.get_by_role("link", name="Télécharger le contrat signé (PDF)")).to_be_visible()
    _step(page, artefacts, "4-signe", screen.width)
