"""The invoice page follows its PDF being produced in the background: "PDF en préparation",
then the download link, without a reload (app/static/pdf-status.js polling the JSON status)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from flask import Flask
from playwright.sync_api import Page, expect

from app.auth.models import Role
from app.db import utcnow
from app.invoices.workflow import produce_pdfs
from tests.e2e.signin import sign_in
from tests.factories import runtime
from tests.factories.invoices import make_invoice
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
