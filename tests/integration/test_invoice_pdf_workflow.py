"""workflow.produce_pdfs, the one render → seal → archive path: an issued invoice or credit
note has its PDF without anyone downloading it; a download never produces one (a GET
changes nothing); producing twice at the same time archives one PDF per document; the
PDFs a failure left missing are produced by `paraphe invoices pdfs`."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import Role
from app.db import transaction
from app.documents.models import Document, DocumentKind
from app.invoices import issuing
from app.invoices.models import CreditNote, Invoice
from app.invoices.workflow import Issued, missing_pdfs, produce_pdfs
from storage import BlobRef, BlobStore
from tests.factories import runtime
from tests.factories.db import count
from tests.factories.invoices import make_credit_note, make_invoice
from tests.factories.people import login_as
from tests.factories.sales import make_client
from tests.integration.helpers import issue_invoice_from_page, post_form
from tests.together import at_once

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _blobs(app: Flask) -> set[str]:
    return set(runtime(app).store.iter_keys())


def test_an_invoice_issued_from_its_page_has_its_pdf_without_any_download(app: Flask) -> None:
    client_id = make_client(app)
    browser = login_as(app, Role.SALES)
    response = issue_invoice_from_page(browser, client_id)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with runtime(app).session_factory() as session:
        invoice = session.query(Invoice).one()
        assert invoice.document is not None
        assert invoice.document.kind == DocumentKind.INVOICE
        assert invoice.document.filename == f"{invoice.number}.pdf"
        assert runtime(app).store.get(invoice.document.sha256).startswith(b"%PDF-")
        invoice_id = invoice.id
    # Issuing enqueued the PDF's job (run inline here): the page links the PDF, polls nothing.
    assert browser.get(f"/factures/{invoice_id}/pdf/etat").get_json()["invoice"] == {
        "ready": True,
        "url": f"/factures/{invoice_id}/pdf",
    }
    assert "pdf-status.js" not in browser.get(f"/factures/{invoice_id}").get_data(as_text=True)

    response = post_form(
        browser,
        f"/factures/{invoice_id}",
        {"mode": "cancel", "reason": "Formation annulée"},
        url=f"/factures/{invoice_id}/avoir",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with runtime(app).session_factory() as session:
        note = session.query(CreditNote).one()
        assert note.document is not None and note.document.kind == DocumentKind.CREDIT_NOTE


def test_downloading_a_missing_pdf_produces_nothing(app: Flask) -> None:
    client_id = make_client(app)
    invoice_id = make_invoice(app, client_id, with_pdf=False)
    with transaction(runtime(app).session_factory) as session:
        note = issuing.issue_credit_note(
            session,
            invoice=issuing.get_invoice(session, invoice_id),
            reason="Annulation",
            now=NOW,
            actor="test",
        )
        note_id = note.id
    documents, blobs = count(app, Document), _blobs(app)
    browser = login_as(app, Role.SALES)

    page = browser.get(f"/factures/{invoice_id}").get_data(as_text=True)
    # The page says so and follows the production through its JSON status (a script).
    assert "PDF en préparation" in page and "pdf-status.js" in page
    assert f'data-pdf-key="{note_id}"' in page and 'data-pdf-key="invoice"' in page
    status = browser.get(f"/factures/{invoice_id}/pdf/etat")
    assert status.get_json() == {
        "invoice": {"ready": False, "url": None},
        "credit_notes": {str(note_id): {"ready": False, "url": None}},
    }
    for url in (f"/factures/{invoice_id}/pdf", f"/factures/avoirs/{note_id}/pdf"):
        response = browser.get(url)
        assert response.status_code == 409, url
        text = response.get_data(as_text=True)
        assert "PDF en cours de production" in text and "Réessayez" in text

    assert count(app, Document) == documents
    assert _blobs(app) == blobs
    with runtime(app).session_factory() as session:
        assert session.get(Invoice, invoice_id).document_id is None  # type: ignore[union-attr]
        assert session.get(CreditNote, note_id).document_id is None  # type: ignore[union-attr]


def test_the_pdfs_command_produces_what_a_failure_left_missing(app: Flask) -> None:
    client_id = make_client(app)
    stranded = make_invoice(app, client_id, with_pdf=False)
    note_id = make_credit_note(app, client_id, with_pdf=False)
    done = make_invoice(app, client_id)
    collab = runtime(app).collaborators(NOW)
    missing = missing_pdfs(collab)
    assert stranded in missing[Issued.INVOICE] and done not in missing[Issued.INVOICE]
    assert missing[Issued.CREDIT_NOTE] == [note_id]

    result = app.test_cli_runner().invoke(args=["invoices", "pdfs"])
    assert result.exit_code == 0, result.output
    assert "2\u00a0PDF produits." in result.output
    assert missing_pdfs(collab) == {Issued.INVOICE: [], Issued.CREDIT_NOTE: []}
    again = app.test_cli_runner().invoke(args=["invoices", "pdfs"])
    assert "0\u00a0PDF produit." in again.output


class _AttachTogether(sessionmaker[Session]):
    """A session factory that lets a workflow read, then holds its second transaction (the
    attach) until the other thread has read too: both saw 'no PDF yet'."""

    def __init__(self, factory: sessionmaker[Session], barrier: threading.Barrier) -> None:
        # The same settings (engine, expire_on_commit) as the application's factory.
        super().__init__(**factory.kw)
        self.barrier = barrier
        self.calls = 0

    def __call__(self, **kwargs: Any) -> Session:
        self.calls += 1
        if self.calls == 2:
            self.barrier.wait(timeout=60)
        return super().__call__(**kwargs)


class _CountingStore:
    """The test's blob store, counting the blobs written."""

    def __init__(self, inner: BlobStore) -> None:
        self.inner = inner
        self.puts = 0
        self.counting = threading.Lock()

    def put(self, data: bytes) -> BlobRef:
        with self.counting:
            self.puts += 1
        return self.inner.put(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


# Two threads, each with its own connections: the writes must be committed to be seen.
@pytest.mark.committed_db
def test_producing_twice_at_once_archives_one_pdf_per_invoice(app: Flask) -> None:
    """On PostgreSQL both producers read 'no PDF' and render; the row lock taken to attach
    makes the second find the PDF attached and deposit nothing. On SQLite the attaching
    transactions take the write lock in turn, with the same outcome."""
    rt = runtime(app)
    client_id = make_client(app)
    ids = [make_invoice(app, client_id, with_pdf=False) for _ in range(3)]
    documents = count(app, Document)
    barrier = threading.Barrier(2)
    store = _CountingStore(rt.store)

    def producer() -> int:
        factory = _AttachTogether(rt.session_factory, barrier)
        collab = replace(rt.collaborators(NOW), session_factory=factory, store=store)
        # one chunk: one read, then one attaching transaction for all three
        return produce_pdfs(collab, ids)

    produced = at_once(producer, times=2)

    assert sorted(produced) == [0, 3]
    assert store.puts == 3
    assert count(app, Document) == documents + 3
    with rt.session_factory() as session:
        for invoice_id in ids:
            invoice = session.get(Invoice, invoice_id)
            assert invoice is not None and invoice.document is not None
            assert invoice.document.reference == invoice.number
