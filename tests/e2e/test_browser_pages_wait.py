"""The signing page opened before the contract's page images exist, on a phone (360 px): it
says they are being prepared and offers the PDF; a real `paraphe worker` on a real broker (a
SQLite file) renders them, and the pages appear in place without a reload (a code being typed
stays). Without JavaScript, the notice offers a reload link instead. axe-core finds no serious
violation in either state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from app.config import Settings
from tests.e2e.axe import assert_no_serious_violations
from tests.e2e.screens import PHONE, outside_the_loop
from tests.factories import sent_link
from tests.integration.worker_process import queued_settings, running_worker, worker_log

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

RENDER_TIMEOUT_MS = 120_000  # the worker's start (imports) and pdftoppm, on shared cores


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """A real broker: sending enqueues the page images, no worker runs until the test starts one."""
    return queued_settings("sqlite", settings, tmp_path)


def test_the_pages_appear_when_ready_without_a_reload(
    app: Flask,
    settings: Settings,
    live_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    artefacts: Path,
) -> None:
    path = outside_the_loop(sent_link, app)
    phone: Page = new_context(viewport=PHONE.viewport).new_page()
    phone.goto(path)

    pending = phone.locator("#pages-pending")
    expect(pending).to_contain_text("en cours de préparation")
    expect(phone.locator("#pages-wait")).to_be_visible()
    expect(pending).to_contain_text("Elles s'afficheront ici dès qu'elles seront prêtes.")
    expect(phone.get_by_role("link", name="actualisez la page")).to_have_count(0)  # <noscript>
    expect(phone.get_by_role("link", name="Télécharger le contrat (PDF)")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.screenshot(path=str(artefacts / "pages-en-preparation-360.png"), full_page=True)
    assert_no_serious_violations(phone)
    phone.get_by_label("Code reçu par e-mail").fill("12")  # kept: the page does not reload
    phone.evaluate("() => { window.notReloaded = true; }")

    with running_worker(settings, periodic=False):
        try:
            expect(phone.locator("#pages img").first).to_be_visible(timeout=RENDER_TIMEOUT_MS)
        except AssertionError:
            pytest.fail(f"no page images; worker log:\n{worker_log(settings)[-4000:]}")

    assert phone.evaluate("() => window.notReloaded === true")
    expect(phone.get_by_label("Code reçu par e-mail")).to_have_value("12")
    expect(pending).to_have_count(0)
    images = phone.locator("#pages img")
    assert images.count() >= 2
    expect(images.first).to_have_js_property("complete", True)
    assert images.first.evaluate("img => img.naturalWidth") > 0
    assert (images.first.get_attribute("alt") or "").startswith("Page 1 sur ")
    shown = images.first.bounding_box()
    assert shown is not None and shown["width"] <= PHONE.width and shown["x"] >= 0
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.screenshot(path=str(artefacts / "pages-arrivees-360.png"), full_page=True)
    assert_no_serious_violations(phone)


def test_without_javascript_the_notice_offers_a_reload_link(
    app: Flask,
    live_server: LiveServer,
    new_context: Callable[..., BrowserContext],
) -> None:
    path = outside_the_loop(sent_link, app)
    phone: Page = new_context(viewport=PHONE.viewport, java_script_enabled=False).new_page()
    phone.goto(path)

    pending = phone.locator("#pages-pending")
    expect(pending).to_contain_text("En attendant, lisez-le en PDF avec le bouton ci-dessus.")
    expect(phone.locator("#pages-wait")).to_be_hidden()  # no script to keep that promise
    reload = phone.get_by_role("link", name="actualisez la page")
    expect(reload).to_be_visible()
    assert reload.get_attribute("href") == path
