"""The single-transaction steps of producing an issued document's PDF (``workflow.py`` runs
them): what to render, and the deposit of the rendered PDF, attached under a row lock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import VendorIdentity
from app.contracts.models import Contract
from app.documents.models import Document, DocumentKind
from app.documents.services import deposit
from app.invoices import document
from app.invoices.models import (
    CreditNote,
    Invoice,
)
from storage import BlobStore


def invoice_document(
    session: Session, invoice: Invoice, vendor: VendorIdentity
) -> document.InvoiceDocument:
    contract = session.get(Contract, invoice.contract_id) if invoice.contract_id else None
    return document.invoice_document(invoice, vendor, contract.number if contract else None)


def archive_invoice(
    session: Session,
    store: BlobStore,
    invoice: Invoice,
    pdf: bytes,
    *,
    now: datetime,
    actor: str,
) -> Document:
    """Deposit the invoice's Factur-X PDF (kind invoice, 10-year retention) and attach it.
    Rendering happens before, outside the issuing transaction (it holds the number lock)."""
    return _archive_pdf(session, store, invoice, DocumentKind.INVOICE, pdf, now=now, actor=actor)


def archive_credit_note(
    session: Session,
    store: BlobStore,
    note: CreditNote,
    pdf: bytes,
    *,
    now: datetime,
    actor: str,
) -> Document:
    """The same for a credit note (kind credit_note: an accounting document, kept 10 years)."""
    return _archive_pdf(session, store, note, DocumentKind.CREDIT_NOTE, pdf, now=now, actor=actor)


def _archive_pdf(
    session: Session,
    store: BlobStore,
    issued: Invoice | CreditNote,
    kind: DocumentKind,
    pdf: bytes,
    *,
    now: datetime,
    actor: str,
) -> Document:
    """Deposit ``pdf`` under the document's number; attach it unless one already is (a
    retried run deposits the same bytes again, which the archive deduplicates)."""
    archived = deposit(
        session,
        store,
        kind=kind,
        client_id=issued.client_id,
        reference=issued.number,
        version=1,
        data=pdf,
        media_type="application/pdf",
        filename=f"{issued.number}.pdf",
        now=now,
        actor=actor,
    )
    if issued.document_id is None:
        issued.document_id = archived.id
    return archived


def invoices_without_pdf(session: Session) -> list[int]:
    """Issued invoices whose PDF was never archived (a run stopped between issuing and
    archiving), oldest first: the next run produces them."""
    return list(
        session.scalars(
            select(Invoice.id).where(Invoice.document_id.is_(None)).order_by(Invoice.id)
        )
    )
