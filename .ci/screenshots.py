"""Regenerate docs/screenshots/ (run by `.ci/screenshots`): the signing page (each step), the
sales dashboard, the quote form, /verify (the signed PDF, then the same PDF with one byte
changed) and the CGV import preview (the shared fixture as a plain-text file), at a phone's
width (360 × 740) and a laptop's (1280 × 900), in Chromium, from the demo data of a fresh
instance under /tmp.

Each shot is the first screen (what a person sees before scrolling), reduced to a 256-colour
palette and optimised: a few tens of kilobytes each, fit for a repository."""

from __future__ import annotations

import json
import logging
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from flask import Flask
from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import migrate  # noqa: E402
from app.clients.models import Client  # noqa: E402
from app.clock import business_date  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import utcnow  # noqa: E402
from app.demo import seed  # noqa: E402
from app.factory import create_app  # noqa: E402
from tests.conftest import CGV_FIXTURE  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.e2e.signin import sign_in  # noqa: E402
from tests.factories.people import login  # noqa: E402
from tests.factories.sales import make_contract, make_quote  # noqa: E402
from tests.integration.helpers import last_code, send_from_sales_page  # noqa: E402
from tests.loopback import serving_app  # noqa: E402
from tests.unit.terms.plain_cgv import plain_text_of  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
SIZES = ((360, 740), (1280, 900))
SALES = "commercial@demo.paraphe.fr"
LEGAL = "juriste@demo.paraphe.fr"


def prepare(app: Flask, password: str) -> tuple[int, list[str]]:
    """The demo data, and one contract of the demo client sent per screen size: the demo
    client's id and each signer's link (path)."""
    rt = app.extensions["paraphe"]
    with rt.session_factory() as session:
        client_id = session.scalars(select(Client.id).order_by(Client.id).limit(1)).one()
    sales = app.test_client()
    login(sales, SALES, password)
    links = []
    for _ in SIZES:
        contract_id = make_contract(app, make_quote(app, client_id))
        links.append(send_from_sales_page(app, contract_id, sales)[1])
    return client_id, links


@contextmanager
def screen_page(browser: Browser, url: str, size: tuple[int, int]) -> Iterator[Page]:
    """A page of a fresh browser context (no cookies) at `size`, closed after the block."""
    width, height = size
    context = browser.new_context(
        base_url=url, viewport={"width": width, "height": height}, locale="fr-FR"
    )
    try:
        yield context.new_page()
    finally:
        context.close()


def shoot(page: Page, name: str, width: int) -> None:
    """The first screen as an optimised palette PNG."""
    raw = OUT / f"{name}-{width}.png"
    page.screenshot(path=str(raw))
    with Image.open(raw) as image:
        reduced = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        reduced.save(raw, optimize=True)
    print(f"  {raw.relative_to(ROOT)} ({raw.stat().st_size // 1024} Ko)")


def sign_and_shoot(
    browser: Browser, url: str, link: str, settings: Settings, size: tuple[int, int]
) -> bytes:
    width = size[0]
    with screen_page(browser, url, size) as page:
        page.goto(link)
        shoot(page, "signature-1-code", width)
        page.get_by_role("button", name="Recevoir un code par e-mail").click()
        expect(page.locator("#notice")).to_be_visible()
        to = re.sub(r"^.*\((.+)\)$", r"\1", page.locator("main p.meta").first.inner_text())
        page.get_by_label("Code reçu par e-mail").fill(last_code(settings.outbox_dir, to))
        page.get_by_role("button", name="Valider le code").click()
        page.locator("#document").scroll_into_view_if_needed()
        expect(page.locator("#pages img").first).to_have_js_property("complete", True)
        shoot(page, "signature-2-lire", width)
        page.locator("#agree").check()
        if page.locator("#accept_cgv").count():
            page.locator("#accept_cgv").check()
        page.locator("#consent").scroll_into_view_if_needed()
        shoot(page, "signature-3-consentement", width)
        page.get_by_role("button", name="Signer le contrat").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Merci")
        shoot(page, "signature-4-apres", width)
        download = page.get_by_role("link", name="Télécharger le contrat signé (PDF)")
        signed = page.request.get(download.get_attribute("href") or "").body()
        return signed


def sales_and_verify(
    browser: Browser, url: str, client_id: int, password: str, signed: bytes, size: tuple[int, int]
) -> None:
    width = size[0]
    with screen_page(browser, url, size) as page:
        sign_in(page, SALES, password)
        expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
        shoot(page, "tableau-de-bord", width)
        page.goto(f"/devis/nouveau/{client_id}")
        page.get_by_role("textbox", name="Désignation", exact=True).nth(0).fill(
            "Abonnement Premium"
        )
        page.get_by_role("textbox", name="Quantité", exact=True).nth(0).fill("12")
        page.get_by_role("textbox", name="Prix unitaire HT (€)", exact=True).nth(0).fill("390")
        # the first screen as it opens, not scrolled to the last field typed in
        page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
        for scroller in page.locator(".table-scroll").all():
            scroller.evaluate("el => { el.scrollLeft = 0; }")
        shoot(page, "devis", width)
        changed = bytearray(signed)
        changed[10] ^= 0x01  # the header's binary comment: still a PDF, inside every signature
        for name, pdf_bytes in (("intact", signed), ("modifie", bytes(changed))):
            page.goto("/verify")
            with tempfile.NamedTemporaryFile(suffix=".pdf") as pdf:
                pdf.write(pdf_bytes)
                pdf.flush()
                page.locator("#document").set_input_files(pdf.name)
                page.get_by_role("button", name="Vérifier").click()
            expect(page.locator("#verdict")).to_be_visible()
            page.locator("#result").scroll_into_view_if_needed()
            shoot(page, f"verification-{name}", width)


def cgv_preview(browser: Browser, url: str, password: str, size: tuple[int, int]) -> None:
    """Legal's import of the shared CGV fixture as a plain-text file, at its preview (the PDF
    rendered by the job, the table of articles found)."""
    width = size[0]
    with screen_page(browser, url, size) as page:
        sign_in(page, LEGAL, password)
        page.goto("/cgv/nouvelle")
        page.get_by_label("Libellé de la version (ex. 2.3)").fill("3.0")
        effective = business_date(utcnow()) + timedelta(days=30)
        page.get_by_label("Date d'entrée en vigueur").fill(effective.isoformat())
        page.locator("input[name=kind][value=minor]").check()
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / "cgv-3.0.txt"
            source.write_text(plain_text_of(CGV_FIXTURE.read_text(encoding="utf-8")), "utf-8")
            page.get_by_label(
                "Fichier Word (.docx), texte (.txt) ou Markdown (.md)"
            ).set_input_files(str(source))
            page.get_by_role("button", name="Voir l'aperçu").click()
        expect(page.locator("#preview-pdf-link")).to_be_visible()
        shoot(page, "cgv-apercu", width)


def main() -> None:
    instance = Path(tempfile.mkdtemp(prefix="paraphe-screenshots-"))
    try:
        settings = Settings.from_env(
            {
                "PARAPHE_INSTANCE_DIR": str(instance),
                "PARAPHE_QUEUE_URL": "inline",  # jobs (page images, seal) run at once, here
                "PARAPHE_ACCESS_LOG": "0",
            }
        )
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        app = create_app(settings)
        OUT.mkdir(parents=True, exist_ok=True)
        with serving_app(app) as url:
            rt = app.extensions["paraphe"]
            migrate.upgrade(rt.settings.database_url)
            seed(rt.collaborators(utcnow()))
            rt.seal_key()  # the development PKI
            passwords = json.loads((instance / "demo-credentials.json").read_text())
            client_id, links = prepare(app, passwords[SALES])
            # Playwright's sync API runs an event loop in its thread; the app (pyHanko) must
            # not run in it: the browser gets a thread of its own.
            with ThreadPoolExecutor(max_workers=1) as pool:
                pool.submit(_browse, url, links, rt.settings, client_id, passwords).result()
    finally:
        shutil.rmtree(instance, ignore_errors=True)


def _browse(
    url: str, links: list[str], settings: Settings, client_id: int, passwords: dict[str, str]
) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for size, link in zip(SIZES, links, strict=True):
            signed = sign_and_shoot(browser, url, link, settings, size)
            sales_and_verify(browser, url, client_id, passwords[SALES], signed, size)
            cgv_preview(browser, url, passwords[LEGAL], size)
        browser.close()


if __name__ == "__main__":
    main()
