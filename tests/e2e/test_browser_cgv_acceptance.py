"""CGV in a real browser: a legal user publishes a material version through the form; the
client's signer receives the notification (outbox), opens the link in another browser, is
refused without ticking the box, then accepts; the report page and the API then show it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from app.auth.models import Role, Scope
from tests.e2e.signin import sign_in
from tests.factories import SHORT_CGV, make_client, make_token, make_user, publish_cgv
from tests.integration.helpers import body_text, outbox_messages

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

# The page embeds the PDF in an <iframe>: a viewport holding the whole page avoids scrolling,
# after which headless Chromium may route clicks to the PDF frame (see test_browser_signing).
VIEWPORT = {"width": 1280, "height": 2000}


def test_client_accepts_a_material_version_from_the_email(
    app: Flask,
    live_server: LiveServer,
    page: Page,
    new_context: Callable[..., BrowserContext],
) -> None:
    publish_cgv(app, SHORT_CGV, label="1.0", effective="2024-01-01")
    client_id = make_client(app)
    legal = make_user(app, Role.LEGAL)

    sign_in(page, legal)
    page.get_by_role("link", name="CGV", exact=True).click()
    page.get_by_role("link", name="Publier une version").click()
    page.get_by_label("Libellé de la version").fill("2.0")
    page.get_by_label("Date d'entrée en vigueur").fill("2025-01-01")
    page.locator("input[name=kind][value=material]").check()
    page.get_by_label("Résumé des modifications").fill("Nouveau prix à l'article 2.")
    page.get_by_label("Ou texte des CGV collé ici").fill(
        SHORT_CGV.replace("proposition", "grille tarifaire")
    )
    page.get_by_label("Markdown (# titre, ## articles)").check()
    page.get_by_role("button", name="Voir l'aperçu").click()
    # the preview first (its PDF rendered by the job, inline here), then the publication
    expect(page.locator("#preview-pdf-link")).to_be_visible()
    page.get_by_role("button", name="Publier cette version").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Version 2.0 publiée ; 1\u00a0client notifié."
    )

    # the signer's mailbox
    messages = outbox_messages(live_server.app.extensions["paraphe"].settings.outbox_dir)
    assert len(messages) == 1 and messages[0]["To"] == "zoe@example.fr"
    text = body_text(messages[0])
    assert "Nouveau prix à l'article 2." in text
    match = re.search(r"(https?://\S+/cgv/accepter/[A-Za-z0-9_\-]+)", text)
    assert match, text

    signer = new_context(viewport=VIEWPORT).new_page()
    signer.goto(match.group(1))
    expect(signer.get_by_role("heading", level=1)).to_contain_text("version 2.0")
    signer.get_by_role("button", name="Accepter cette version").click()
    expect(signer.get_by_role("alert")).to_have_text(
        "Cochez la case pour accepter cette version des CGV."
    )
    signer.get_by_label(re.compile("J'ai lu et j'accepte")).check()
    signer.get_by_role("button", name="Accepter cette version").click()
    expect(signer.locator("#accepted")).to_contain_text("Vous avez accepté la version 2.0")

    # the report: the client is now bound by 2.0, and by the latest material version
    page.goto("/cgv/rapport")
    expect(page.locator("#counts tbody tr")).to_have_text([re.compile(r"2\.0\s*1")])
    expect(page.locator("#not-bound")).to_contain_text("Tous les clients actifs l'ont acceptée.")

    # the API
    api = app.test_client()
    headers = {"Authorization": f"Bearer {make_token(app, Scope.READ)}"}
    bound = api.get(f"/api/v1/clients/{client_id}/cgv", headers=headers).get_json()
    assert bound["cgv_version"]["label"] == "2.0"
    history = api.get(f"/api/v1/clients/{client_id}/cgv-acceptances", headers=headers).get_json()
    assert [(i["cgv_version"]["label"], i["method"]) for i in history["items"]] == [
        ("2.0", "click_through")
    ]
