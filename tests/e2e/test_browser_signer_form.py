"""The quote page's generation form in Chromium at a phone's width (360 × 740) and a laptop's
(1280 × 900): the client's signer is prefilled from the client record, a wrong address is
refused with the problem under its field and what was typed kept, the corrected form
generates the contract with the signer as typed. Screenshots are kept as artefacts."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, expect
from sqlalchemy import select

from app.auth.models import Role
from app.contracts.models import ContractVersion
from tests.e2e.axe import assert_no_serious_violations
from tests.e2e.screens import ON_A_PHONE_AND_A_LAPTOP, Screen
from tests.e2e.signin import sign_in
from tests.factories import session_of
from tests.factories.people import make_user
from tests.factories.sales import VALID_CLIENT, make_client, make_quote, publish_short_cgv

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

TYPED = "Zoé <b>Roux</b> & {{ 7*7 }}"


@ON_A_PHONE_AND_A_LAPTOP
def test_the_signer_is_refused_then_corrected_and_printed_as_typed(
    app: Flask,
    live_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    artefacts: Path,
    screen: Screen,
) -> None:
    publish_short_cgv(app)
    quote_id = make_quote(app, make_client(app))
    sales = make_user(app, Role.SALES)
    page = new_context(viewport=screen.viewport).new_page()
    sign_in(page, sales)
    page.goto(f"/devis/{quote_id}")

    name = page.get_by_label("Nom du signataire")
    email = page.get_by_label("E-mail du signataire")
    expect(name).to_have_value(VALID_CLIENT["signer_name"])
    expect(email).to_have_value(VALID_CLIENT["signer_email"])
    name.fill(TYPED)
    email.fill("zoe.roux@")
    page.get_by_role("button", name="Générer le contrat").click()

    expect(page.locator("#generate-errors")).to_have_text(
        "Le contrat n'a pas été généré : corrigez le champ signalé ci-dessous."
    )
    expect(page.locator("#signer_email-error")).to_have_text(
        "Adresse e-mail invalide (ex. prenom.nom@entreprise.fr)."
    )
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_value(TYPED)  # kept as typed, shown as text
    expect(email).to_have_value("zoe.roux@")
    assert page.locator("#signer-fields b").count() == 0
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    page.screenshot(path=str(artefacts / f"signataire-refuse-{screen.width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for field in (name, email):
        box = field.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= screen.width + 0.5
    assert_no_serious_violations(page)

    email.fill("zoe.roux@example.fr")
    page.get_by_role("button", name="Générer le contrat").click()
    expect(page).to_have_url(re.compile(r"/contrats/\d+$"), timeout=20_000)
    expect(page.get_by_text("(version 1) généré.")).to_be_visible()
    with session_of(app) as session:
        version = session.scalars(select(ContractVersion)).one()
        assert (version.signer_name, version.signer_email) == (TYPED, "zoe.roux@example.fr")
