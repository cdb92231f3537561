"""The signing path in a real browser: a sales user logs in, creates a client and a quote through
the forms, generates and sends the contract; the client's signer opens the emailed link in another
browser (no session), enters the one-time code received by email, is refused without consent, then
signs; the vendor's countersigner (the sales user) does the same; both download the sealed,
PAdES-valid PDF. Every email goes through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from app.auth.models import Role
from app.config import Settings
from app.pki import trust_roots
from signing import VerificationReport, verify_pdf
from tests.conftest import CGV_FIXTURE
from tests.e2e.signin import sign_in
from tests.factories import make_user, publish_cgv
from tests.integration.helpers import body_text, latest_code, signing_link
from tests.integration.sealed_pdf import assert_sealed_contract
from tests.integration.smtp_server import Inbox


@pytest.fixture
def settings(settings: Settings, smtp_port: int) -> Settings:
    """The app mails through the loopback SMTP server (what PARAPHE_SMTP_URL configures)."""
    return dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{smtp_port}")


def enter_code(page: Page, received: Inbox, to: str) -> None:
    page.get_by_role("button", name="Recevoir un code par e-mail").click()
    expect(page.get_by_role("status")).to_have_text(f"Un code à 6 chiffres a été envoyé à {to}.")
    code = latest_code(received.messages, to)
    assert code is not None, f"no code mail to {to}"
    page.get_by_label("Code reçu par e-mail").fill(code)
    page.get_by_role("button", name="Valider le code").click()
    expect(page.get_by_role("button", name="Signer le contrat")).to_be_visible()


if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

HOSTILE_NAME = "Café <b>Ünïcode</b> & Fils"
SIGNER_EMAIL = "zoe@example.fr"
NNBSP, NBSP = "\u202f", "\u00a0"


# The signing page shows the contract as page images (no PDF frame): a laptop's viewport.
SIGNER_VIEWPORT = {"width": 1280, "height": 900}


def euros(text: str) -> str:
    """'2 150,50' -> '2\u202f150,50\u00a0€', the way the app prints amounts."""
    return text.replace(" ", NNBSP) + NBSP + "€"


def exact_text(page: Page, selector: str, expected: str) -> None:
    # to_have_text waits for the element but normalises whitespace (NBSP included): compare the
    # raw text afterwards so the French typographic spaces are checked too.
    locator = page.locator(selector)
    expect(locator).to_have_text(expected)
    assert locator.text_content() == expected


def _verify(data: bytes, settings: Settings) -> VerificationReport:
    # verify_pdf runs its own asyncio loop; Playwright's sync API already has one running in
    # this thread, so the validation runs in a worker thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(verify_pdf, data, trust_roots(settings)).result()


def test_quote_to_signed_pdf_in_a_real_browser(
    app: Flask,
    settings: Settings,
    live_server: LiveServer,
    page: Page,
    new_context: Callable[..., BrowserContext],
    tmp_path: Path,
    inbox: Inbox,
) -> None:
    publish_cgv(app, CGV_FIXTURE.read_text(encoding="utf-8"))
    sales = make_user(app, Role.SALES)

    # 1. log in through the form
    sign_in(page, sales)
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Bonjour "))

    # 2. a client whose name looks like markup: it must be shown as text, never interpreted
    page.get_by_role("link", name="Nouveau client").click()
    page.get_by_label("Raison sociale").fill(HOSTILE_NAME)
    page.get_by_label("SIREN").fill("552 100 554")
    page.get_by_label("N° de TVA intracommunautaire").fill("FR96552100554")
    page.get_by_label("Adresse", exact=True).fill("3 place de la Bourse")
    page.get_by_label("Code postal").fill("69002")
    page.get_by_label("Ville").fill("Lyon")
    page.get_by_label("Nom du signataire").fill("Zoë Łukasiewicz-Müller")
    page.get_by_label("E-mail du signataire").fill(SIGNER_EMAIL)
    page.get_by_role("button", name="Créer le client").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE_NAME)
    expect(page.get_by_role("status")).to_contain_text(f"Client « {HOSTILE_NAME} » créé.")
    expect(page.locator("main b")).to_have_count(0)  # no <b> element came out of the name

    # 3. a quote with two lines, one price typed the French way
    page.get_by_role("link", name="Nouveau devis").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Nouveau devis pour {HOSTILE_NAME}")
    designation = page.get_by_role("textbox", name="Désignation", exact=True)
    quantity = page.get_by_role("textbox", name="Quantité", exact=True)
    unit_price = page.get_by_role("textbox", name="Prix unitaire HT (€)", exact=True)
    vat = page.get_by_role("combobox", name="TVA", exact=True)
    designation.nth(0).fill("Abonnement annuel Premium")
    quantity.nth(0).fill("1")
    unit_price.nth(0).fill("1 250,50")
    vat.nth(0).select_option("20")
    designation.nth(1).fill("Formation initiale (jours)")
    quantity.nth(1).fill("2")
    unit_price.nth(1).fill("450")
    vat.nth(1).select_option("10")
    page.get_by_role("button", name="Enregistrer le devis").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Devis \S+$"))
    expect(page.get_by_role("link", name=HOSTILE_NAME)).to_be_visible()
    rows = page.locator("table:not(.totals) tbody tr")
    expect(rows).to_have_count(2)
    assert rows.nth(0).locator("td").last.text_content() == euros("1 250,50")
    assert rows.nth(1).locator("td").last.text_content() == euros("900,00")
    # 1 250,50 at 20 % (VAT 250,10) + 2 × 450 at 10 % (VAT 90,00)
    exact_text(page, "#total-ht", euros("2 150,50"))
    exact_text(page, "#total-tva", euros("340,10"))
    exact_text(page, "#total-ttc", euros("2 490,60"))

    # 4. the contract: rendering the 20-page CGV takes seconds, more when CI shares its cores
    page.get_by_role("button", name="Générer le contrat").click(timeout=40_000)
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"^Contrat CTR-\d{4}-\d{4}$"))
    number = (heading.text_content() or "").removeprefix("Contrat ")
    expect(page.locator("#status-v1")).to_have_text("générée")
    pdf_href = page.get_by_role("link", name="Voir le PDF").get_attribute("href")
    assert pdf_href
    unsigned = page.request.get(pdf_href)  # shares the sales user's cookies
    assert unsigned.ok and unsigned.headers["content-type"] == "application/pdf"
    unsigned_pdf = unsigned.body()
    assert unsigned_pdf.startswith(b"%PDF-")

    # 5. send for signature: one email, with a link to this very server
    page.get_by_role("button", name=f"Envoyer pour signature à {SIGNER_EMAIL} et {sales}").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Contrat envoyé pour signature à {SIGNER_EMAIL}."
    )
    expect(page.locator("#status-v1")).to_have_text("envoyée pour signature")
    messages = inbox.messages
    assert len(messages) == 1 and messages[0]["To"] == SIGNER_EMAIL
    path = signing_link(messages[0])
    link = live_server.url + path
    assert link in body_text(messages[0]).split()

    # 6. the signer: another browser context, no session.
    signer = new_context(viewport=SIGNER_VIEWPORT).new_page()
    opened = signer.goto(link)
    assert opened is not None and opened.status == 200
    expect(signer.get_by_role("heading", level=1)).to_have_text(f"Contrat {number} — version 1")
    expect(signer.locator("#who-asks")).to_contain_text(f"vous signez pour {HOSTILE_NAME}")
    expect(signer.locator("main b")).to_have_count(0)
    expect(signer.locator("#document strong")).to_have_text(
        "conditions générales de vente version 2.2 du 4 septembre 2022"
    )
    # 6'. the one-time code, read from the SMTP server, before the consent form appears
    expect(signer.get_by_role("button", name="Signer le contrat")).to_have_count(0)
    enter_code(signer, inbox, SIGNER_EMAIL)
    accept_cgv = signer.get_by_label("J'ai lu et j'accepte les conditions générales de vente")
    agree = signer.get_by_label(f"Bon pour accord : je signe le contrat {number} (version 1).")
    sign = signer.get_by_role("button", name="Signer le contrat")
    expect(accept_cgv).not_to_be_checked()
    expect(agree).not_to_be_checked()
    # the document the signer downloads is the very contract the sales user saw, its pages shown
    pdf_link = signer.get_by_role("link", name="Télécharger le contrat (PDF)").get_attribute("href")
    assert pdf_link
    assert signer.request.get(pdf_link).body() == unsigned_pdf
    expect(
        signer.get_by_role("img", name=re.compile(r"^Page 1 sur \d+ du contrat"))
    ).to_be_visible()
    signer.screenshot(path=str(tmp_path / "signing-page.png"), full_page=True)

    # 6a. signing without consent is refused, and nothing is signed
    with signer.expect_response(lambda r: r.request.method == "POST") as refused:
        sign.click()
    assert refused.value.status == 422
    alert = signer.get_by_role("alert")
    expect(alert).to_have_text(
        "Pour signer, cochez l'acceptation des conditions générales de vente "
        "et la mention « Bon pour accord »."
    )
    expect(accept_cgv).not_to_be_checked()
    not_yet = signer.request.get(f"{path}/document-signe.pdf")
    assert not_yet.status == 409, not_yet.status
    page.reload()
    expect(page.locator("#status-v1")).to_have_text("envoyée pour signature")

    # 6b. with both boxes ticked, the client's signature is recorded; the countersigner is next
    accept_cgv.check()
    agree.check()
    sign.click()
    expect(signer.get_by_role("heading", level=1)).to_have_text(
        "Merci, votre signature est enregistrée"
    )
    page.reload()
    expect(page.locator("#status-v1")).to_have_text("envoyée pour signature")
    invitations = [m for m in inbox.messages if "ouvrez ce lien" in body_text(m)]
    assert [m["To"] for m in invitations] == [SIGNER_EMAIL, sales]

    # 6c. the vendor's countersigner (the sales user) signs in its own session
    vendor = new_context(viewport=SIGNER_VIEWPORT).new_page()
    vendor.goto(live_server.url + signing_link(invitations[1]))
    enter_code(vendor, inbox, sales)
    # the CGV are the vendor's own terms: its countersigner is not asked to accept them
    cgv_box = vendor.get_by_label("J'ai lu et j'accepte les conditions générales de vente")
    expect(cgv_box).to_have_count(0)
    vendor.get_by_label(f"Bon pour accord : je signe le contrat {number} (version 1).").check()
    vendor.get_by_role("button", name="Signer le contrat").click()
    expect(vendor.get_by_role("heading", level=1)).to_have_text("Merci, le contrat est signé")
    with vendor.expect_download() as download_info:
        vendor.get_by_role("link", name="Télécharger le contrat signé (PDF)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    signed_pdf = Path(download.path()).read_bytes()
    assert signer.request.get(f"{path}/document-signe.pdf").body() == signed_pdf

    # independent proof: the PAdES signature validates against the development root, and the
    # signature is an incremental update: the unsigned contract is the first revision, untouched
    assert_sealed_contract(_verify(signed_pdf, settings))
    assert signed_pdf.startswith(unsigned_pdf) and len(signed_pdf) > len(unsigned_pdf)
    expect(vendor.locator("code.hash")).to_have_text(hashlib.sha256(signed_pdf).hexdigest())

    # the link is spent
    reused = signer.goto(link)
    assert reused is not None and reused.status == 410
    expect(signer.get_by_role("heading", level=1)).to_have_text("Ce lien n'est plus utilisable")

    # 7. the sales user sees the signed status and can download the same document
    page.reload()
    expect(page.locator("#status-v1")).to_have_text("signée")
    signed_href = page.get_by_role("link", name="Télécharger le PDF signé").get_attribute("href")
    assert signed_href
    assert page.request.get(signed_href).body() == signed_pdf
