"""/verify in Chromium at a phone's width (360 × 740) and a laptop's (1280 × 900): a genuine
signed contract reads "Document intact, signé par …", the same file with one byte changed
reads "Document modifié après la signature de …", each verdict first and in French, with
nothing wider than the screen and no serious accessibility violation (axe-core). Screenshots
are kept in the test's temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, expect
from sqlalchemy import select

from app.signatures.models import SignatureRequest
from tests.e2e.axe import assert_no_serious_violations
from tests.e2e.screens import ON_A_PHONE_AND_A_LAPTOP, Screen, outside_the_loop
from tests.factories import runtime, sent_link, session_of, sign_through_services

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e


def _signed_contract(app: Flask) -> bytes:
    sign_through_services(app, sent_link(app))
    with session_of(app) as session:
        request = session.scalars(select(SignatureRequest)).one()
        assert request.signed_document is not None
        return runtime(app).store.get(request.signed_document.sha256)


@ON_A_PHONE_AND_A_LAPTOP
def test_verify_says_intact_or_modified_first_on_a_phone_and_a_laptop(
    app: Flask,
    live_server: LiveServer,
    new_context: Callable[..., BrowserContext],
    tmp_path: Path,
    screen: Screen,
) -> None:
    signed = outside_the_loop(_signed_contract, app)
    genuine = tmp_path / "contrat-signe.pdf"
    genuine.write_bytes(signed)
    tampered = tmp_path / "contrat-modifie.pdf"
    changed = bytearray(signed)
    changed[10] ^= 0x01  # the header's binary comment: still a PDF, inside every signature
    tampered.write_bytes(bytes(changed))

    page = new_context(viewport=screen.viewport).new_page()
    for name, path, expected in (
        ("intact", genuine, "Document intact, signé par Zoë Martin le "),
        ("modifie", tampered, "Document modifié après la signature de Zoë Martin"),
    ):
        page.goto("/verify")
        page.get_by_label("Fichier PDF (20 Mo au plus)").set_input_files(str(path))
        page.get_by_role("button", name="Vérifier").click()
        verdict = page.locator("#verdict")
        expect(verdict).to_contain_text(expected)
        if name == "intact":
            expect(verdict).to_contain_text("cachet de la plateforme valide")
        # the verdict comes before the details, and is visible without scrolling sideways
        details = page.locator("#signatures")
        expect(details).to_be_visible()
        box, after = verdict.bounding_box(), details.bounding_box()
        assert box is not None and after is not None and box["y"] < after["y"]
        assert box["x"] >= 0 and box["x"] + box["width"] <= screen.width
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(tmp_path / f"verify-{name}-{screen.width}.png"), full_page=True)
        assert_no_serious_violations(page)
