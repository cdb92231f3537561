"""The invoice page follows its PDF being produced in the background: "PDF en préparation",
then the download link, without a reload (app/static/pdf-status.js polling the JSON status);
and its mails: « Envoi en cours… », then each mail's result (app/static/progress.js)."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from app.auth.models import Role
from app.db import utcnow
from app.invoices.workflow import produce_pdfs
from tests.e2e.screens import ON_A_PHONE_AND_A_LAPTOP, Screen, outside_the_loop
from tests.e2e.signin import sign_in
from tests.factories import runtime
from tests.factories.invoices import make_invoice, make_invoice_to_mail
from tests.factories.people import make_user
from tests.factories.sales import make_client

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer


def test_the_download_link_appears_once_the_worker_archived_the_pdf(
    app: Flask, live_server: LiveServer, page: Page
) -> None:
    # Issued, its PDF not produced yet: as while the job waits for a worker.
    invoice_id = make_invoice(app, make_client(app), with_pdf=False)
    sales = make_user(app, Role.SALES)
    sign_in(page, sales)
    page.goto(f"/factures/{invoice_id}")
    pending = page.locator("#pdf-missing")
    expect(pending).to_contain_text("PDF en préparation")
    # the title is the invoice's number alone (it once held the status markup as text)
    expect(page).to_have_title(re.compile(r"^Facture FAC-\S+ · Paraphe$"))

    # The worker's job, done while the page is open (in another thread: Playwright keeps an
    # event loop in this one).
    with ThreadPoolExecutor(max_workers=1) as pool:
        done = pool.submit(
            lambda: produce_pdfs(runtime(app).collaborators(utcnow()), [invoice_id])
        ).result()
    assert done == 1

    link = page.get_by_role("link", name="Télécharger le PDF (Factur-X)")
    expect(link).to_have_attribute("href", f"/factures/{invoice_id}/pdf", timeout=20_000)
    expect(pending).not_to_contain_text("PDF en préparation")


@ON_A_PHONE_AND_A_LAPTOP
def test_the_mail_section_says_the_send_is_under_way_then_its_result(
    app: Flask, live_server: LiveServer, new_context: Callable[..., BrowserContext], screen: Screen
) -> None:
    invoice_id = outside_the_loop(make_invoice_to_mail, app)
    page = new_context(viewport=screen.viewport).new_page()
    sign_in(page, make_user(app, Role.SALES))
    page.goto(f"/factures/{invoice_id}")
    mails = page.locator("#mail-progress")
    expect(mails).to_contain_text("Envoi en cours…")
    expect(mails).not_to_contain_text("Pas encore d'envoi")
    box = mails.bounding_box()
    assert box is not None and box["x"] + box["width"] <= screen.width

    # The worker archives the PDF, which mails it, while the page is open.
    done = outside_the_loop(produce_pdfs, runtime(app).collaborators(utcnow()), [invoice_id])
    assert done == 1

    expect(mails).to_contain_text("compta@client.example : envoyé le", timeout=20_000)
    expect(mails).not_to_contain_text("Envoi en cours")
    expect(page.locator("#mail-reload")).to_have_count(0)
    # the PDF's link arrived too, by its own poller
    expect(page.get_by_role("link", name="Télécharger le PDF (Factur-X)")).to_be_visible()
