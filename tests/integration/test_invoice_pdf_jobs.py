"""Invoice PDFs through the job queue for real: issuing from the invoice page answers at
once and enqueues `invoices.produce_pdf`; `paraphe worker`, a separate process, produces
and archives the PDF exactly once (the same job enqueued twice), and the page's JSON status
then gives its link."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask

from app.auth.models import Role
from app.config import Settings
from app.documents.models import Document, DocumentKind
from app.invoices.models import Invoice
from app.invoices.pdfs import Issued
from app.invoices.tasks import after_issue
from tests.factories.db import count, session_of
from tests.factories.people import login_as
from tests.factories.sales import make_client
from tests.integration.helpers import issue_invoice_from_page
from tests.integration.worker_process import (
    WORKER_PROCESS_MARKS,
    running_worker,
    wait_until,
    worker_log,
)

pytestmark = WORKER_PROCESS_MARKS


def _archived(app: Flask, invoice_id: int) -> bool:
    with session_of(app) as session:
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None
        return invoice.document_id is not None


def test_an_issued_invoice_gets_its_pdf_from_a_worker_exactly_once(
    queued: Settings, make_app: Callable[[Settings], Flask]
) -> None:
    app = make_app(queued)
    client_id = make_client(app)
    browser = login_as(app, Role.SALES)

    issued = issue_invoice_from_page(browser, client_id)

    # Issued and answered at once; the PDF waits in the broker for a worker.
    assert issued.status_code == 302, issued.get_data(as_text=True)[:2000]
    invoice_id = int(issued.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    page = browser.get(f"/factures/{invoice_id}").get_data(as_text=True)
    assert "PDF en préparation" in page and "pdf-status.js" in page
    status_url = f"/factures/{invoice_id}/pdf/etat"
    assert browser.get(status_url).get_json()["invoice"] == {"ready": False, "url": None}
    assert browser.get(f"/factures/{invoice_id}/pdf").status_code == 409
    assert count(app, Document, Document.kind == DocumentKind.INVOICE) == 0

    after_issue(Issued.INVOICE, invoice_id)  # the same job again (a retry, the sweep)
    with running_worker(queued, workers=2):
        wait_until(lambda: _archived(app, invoice_id), queued)
        time.sleep(1.0)  # the duplicate job had time to run: it must archive nothing
    assert count(app, Document, Document.kind == DocumentKind.INVOICE) == 1
    assert worker_log(queued).count("Executing app.invoices.tasks.invoices.produce_pdf") == 2
    assert browser.get(status_url).get_json()["invoice"] == {
        "ready": True,
        "url": f"/factures/{invoice_id}/pdf",
    }
    pdf = browser.get(f"/factures/{invoice_id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
