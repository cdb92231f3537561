"""Correcting a client on a phone: the « Modifier » link on the client's page opens the form
prefilled; errors show under their fields with what was typed kept;
of two tabs opened on one revision, the second to save is told someone changed the record
and sees the current values; the accessibility check finds nothing serious."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, expect

from app.auth.models import Role
from tests.e2e.axe import assert_no_serious_violations
from tests.e2e.screens import PHONE, outside_the_loop
from tests.e2e.signin import sign_in
from tests.factories.people import make_user
from tests.factories.sales import VALID_CLIENT, make_client

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e


def test_a_client_is_corrected_on_a_phone(
    app: Flask, live_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    client_id = outside_the_loop(make_client, app, signer_title="Gérante")
    sales = make_user(app, Role.SALES)
    context = new_context(viewport=PHONE.viewport)
    page = context.new_page()
    sign_in(page, sales)
    page.wait_for_url("**/")

    page.goto(f"/clients/{client_id}")
    page.get_by_role("link", name="Modifier", exact=True).click()
    page.wait_for_url(f"**/clients/{client_id}/modifier")
    expect(page.get_by_label("Raison sociale")).to_have_value(VALID_CLIENT["legal_name"])
    expect(page.get_by_label("Qualité du signataire")).to_have_value("Gérante")
    assert_no_serious_violations(page)
    # the form reads on the phone: one column, nothing wider than the screen
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE.width

    page.get_by_label("Raison sociale").fill("")
    page.get_by_label("E-mail du signataire").fill("zoe@")
    page.get_by_label("Ville", exact=True).fill("Vénissieux")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    expect(page.locator("#legal_name-error")).to_have_text("Ce champ est obligatoire.")
    expect(page.locator("#signer_email-error")).to_contain_text("Adresse e-mail invalide")
    expect(page.get_by_label("Ville", exact=True)).to_have_value("Vénissieux")
    assert_no_serious_violations(page)

    # a second tab on the same revision saves first
    other = context.new_page()
    other.goto(f"/clients/{client_id}/modifier")
    other.get_by_label("Ville", exact=True).fill("Bron")
    other.get_by_role("button", name="Enregistrer les modifications").click()
    other.wait_for_url(f"**/clients/{client_id}")
    expect(other.get_by_text("Fiche client mise à jour.")).to_be_visible()

    page.get_by_label("Raison sociale").fill("Boulangerie Lefèvre")
    page.get_by_label("E-mail du signataire").fill("zoe@example.fr")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    expect(page.locator("#changed")).to_contain_text("modifiée entre-temps")
    expect(page.get_by_label("Ville", exact=True)).to_have_value("Bron")
    expect(page.get_by_label("Raison sociale")).to_have_value(VALID_CLIENT["legal_name"])

    page.get_by_label("Raison sociale").fill("Boulangerie Lefèvre")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    page.wait_for_url(f"**/clients/{client_id}")
    expect(page.get_by_text("Fiche client mise à jour.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Boulangerie Lefèvre")
