"""The invoice page asks the server one status at a time (counted with page.on("request")):
while its PDF is missing, only the PDF's status (/pdf/etat), since its mails wait for the PDF;
once the PDF is archived, the mails' status (/envoi/etat) until they are sent; then nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask
from playwright.sync_api import Page, Request, expect

from app.auth.models import Role
from app.db import utcnow
from app.invoices.workflow import produce_pdfs
from tests.e2e.screens import outside_the_loop
from tests.e2e.signin import sign_in
from tests.factories import runtime
from tests.factories.invoices import make_invoice_to_mail
from tests.factories.people import make_user

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer


def test_one_poller_per_status_each_stopping_when_done(
    app: Flask, live_server: LiveServer, page: Page
) -> None:
    invoice_id = outside_the_loop(make_invoice_to_mail, app)
    sign_in(page, make_user(app, Role.SALES))
    asked: list[str] = []

    def _count(request: Request) -> None:
        path = request.url.removeprefix(live_server.url)
        if path.endswith("/etat"):
            asked.append(path)

    page.on("request", _count)
    page.goto(f"/factures/{invoice_id}")
    expect(page.locator("#mail-progress")).to_contain_text("Envoi en cours…")
    pdf_state, mail_state = f"/factures/{invoice_id}/pdf/etat", f"/factures/{invoice_id}/envoi/etat"

    # PDF missing: the PDF's status only, every 2 s (not the mails', which wait for it)
    page.wait_for_timeout(5_500)
    assert asked, "the page did not follow its PDF"
    assert set(asked) == {pdf_state}, asked
    assert 2 <= len(asked) <= 3, asked

    # the worker archives the PDF, which mails it, while the page is open
    assert outside_the_loop(produce_pdfs, runtime(app).collaborators(utcnow()), [invoice_id]) == 1
    link = page.get_by_role("link", name="Télécharger le PDF (Factur-X)")
    expect(link).to_have_attribute("href", f"/factures/{invoice_id}/pdf", timeout=20_000)
    mails = page.locator("#mail-progress")
    expect(mails).to_contain_text("compta@client.example : envoyé le", timeout=20_000)

    # both done: the page stops asking
    page.wait_for_timeout(500)  # an answer already on its way is let through
    settled = len(asked)
    page.wait_for_timeout(5_000)
    assert len(asked) == settled, asked[settled:]
    after_pdf = asked[asked.index(mail_state) :]
    assert pdf_state not in after_pdf, asked  # the PDF's poller stopped when it found it
    assert after_pdf.count(mail_state) >= 1
