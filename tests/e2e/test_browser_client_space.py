"""The client's space in Chromium, on a phone (360 × 740) and a laptop (1280 × 900): a
billing contact asks for a sign-in link, opens the mailed link, downloads an invoice, accepts
the CGV version waiting for it, and after the termination asks for its archive and downloads
it; axe-core finds no serious or critical violation on the pages it sees."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from app.clients.services import get_client, terminate
from app.db import transaction, utcnow
from tests.e2e.axe import assert_no_serious_violations
from tests.e2e.screens import ON_A_PHONE_AND_A_LAPTOP, Screen
from tests.factories import make_client, make_invoice, publish_cgv, runtime
from tests.factories.space import add_billing_contact, notify_cgv
from tests.integration.helpers import body_text, outbox_messages

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

CONTACT = "compta@boulangerie.example"


def _client_with_an_invoice_and_a_pending_cgv(app: Flask) -> int:
    publish_cgv(app, "# Article 1\n\nObjet.\n", label="7.0", effective="2024-01-01")
    client_id = make_client(app)
    add_billing_contact(app, client_id, CONTACT, "Service comptable")
    make_invoice(app, client_id)
    notify_cgv(app, client_id, "7.0")
    return client_id


def _terminate(app: Flask, client_id: int) -> None:
    with transaction(runtime(app).session_factory) as session:
        now = utcnow()
        terminate(
            session, get_client(session, client_id), on=now.date(), reason="Fin", actor="t", now=now
        )


def _mailed_link(app: Flask) -> str:
    for message in reversed(outbox_messages(runtime(app).settings.outbox_dir)):
        match = re.search(
            r"https?://[^/\s]+(/espace-client/connexion/[\w-]{40,})", body_text(message)
        )
        if match:
            return match.group(1)
    raise AssertionError("no sign-in mail in the outbox")


@ON_A_PHONE_AND_A_LAPTOP
def test_a_contact_signs_in_downloads_accepts_and_gets_its_archive(
    app: Flask,
    live_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    screen: Screen,
) -> None:
    # Playwright keeps an event loop in this thread; the app's own work runs in another.
    pool = ThreadPoolExecutor(max_workers=1)
    client_id = pool.submit(_client_with_an_invoice_and_a_pending_cgv, app).result()
    page: Page = new_context(viewport=screen.viewport).new_page()

    page.goto("/espace-client/")
    assert_no_serious_violations(page)
    page.get_by_label("Votre adresse e-mail").fill(CONTACT)
    page.get_by_role("button", name="Recevoir un lien de connexion").click()
    expect(page.get_by_role("status")).to_contain_text("lien de connexion vient")

    page.goto(pool.submit(_mailed_link, app).result())
    assert_no_serious_violations(page)
    page.get_by_role("button", name="Accéder à mon espace").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Espace client")
    assert_no_serious_violations(page)
    # nothing wider than the screen: the tables scroll inside their box
    assert page.evaluate("document.documentElement.scrollWidth") <= screen.width

    invoice = page.locator("#factures a").first
    with page.expect_download() as download:
        invoice.click()
    assert download.value.suggested_filename.startswith("FAC-")
    assert (download.value.path().read_bytes())[:5] == b"%PDF-"

    page.get_by_label("J'ai lu et j'accepte la version 7.0 des CGV").check()
    page.get_by_role("button", name="Accepter la version 7.0").click()
    expect(page.locator("#cgv")).to_contain_text("Version qui vous engage aujourd'hui : 7.0")
    expect(page.get_by_role("button", name="Accepter la version 7.0")).to_have_count(0)

    pool.submit(_terminate, app, client_id).result()
    page.reload()
    page.get_by_role("button", name="Demander l'archive de mes documents").click()
    archive = page.locator("#restitution a").first
    expect(archive).to_contain_text("Archive")
    assert_no_serious_violations(page)
    with page.expect_download() as zipped:
        archive.click()
    assert (zipped.value.path().read_bytes())[:2] == b"PK"
    pool.shutdown()
