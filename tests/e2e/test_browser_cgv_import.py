"""Legal imports the shared CGV fixture in Chromium, as a plain-text file and as a Word file:
the form sends the file, the preview shows the table of the 21 articles found and the link to
the rendered PDF (the job ran), passes the accessibility check, and publishing from it opens
the published version."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from app.auth.models import Role
from tests.conftest import CGV_FIXTURE
from tests.e2e.axe import assert_no_serious_violations
from tests.e2e.signin import sign_in
from tests.factories import make_user
from tests.unit.terms.docx_cgv import docx_of
from tests.unit.terms.plain_cgv import plain_text_of

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("suffix", [".txt", ".docx"])
def test_a_cgv_file_is_previewed_then_published(
    app: Flask, live_server: LiveServer, page: Page, tmp_path: Path, suffix: str
) -> None:
    markdown = CGV_FIXTURE.read_text(encoding="utf-8")
    source = tmp_path / f"cgv-2.2{suffix}"
    if suffix == ".txt":
        source.write_text(plain_text_of(markdown), encoding="utf-8")
    else:
        source.write_bytes(docx_of(markdown))
    legal = make_user(app, Role.LEGAL)
    sign_in(page, legal)

    page.goto("/cgv/nouvelle")
    page.get_by_label("Libellé de la version (ex. 2.3)").fill("2.2")
    page.get_by_label("Date d'entrée en vigueur").fill("2022-09-04")
    page.locator("input[name=kind][value=minor]").check()
    page.get_by_label("Fichier Word (.docx), texte (.txt) ou Markdown (.md)").set_input_files(
        str(source)
    )
    page.get_by_role("button", name="Voir l'aperçu").click()

    articles = page.locator("#articles li")
    expect(articles).to_have_count(21)
    expect(articles.nth(16)).to_have_text("ARTICLE 17. NON-RENONCIATION")
    expect(page.locator("#no-article")).to_have_count(0)
    expect(page.locator("#preview-pdf-link")).to_be_visible()
    page.screenshot(path=str(tmp_path / f"cgv-preview{suffix}.png"), full_page=True)
    assert_no_serious_violations(page)

    page.get_by_role("button", name="Publier cette version").click()
    expect(page.locator("h1")).to_contain_text("version 2.2")
