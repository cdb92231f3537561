"""The single-transaction steps of producing an issued document's PDF (``workflow.py`` runs
them, never holding a transaction across rendering or sealing): which documents still need
their PDF and what they show, then the deposit of each rendered PDF, attached under a row
lock that re-checks it is still missing, so that two producers archive one PDF."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.contracts.models import Contract
from app.documents.models import DocumentKind
from app.documents.services import deposit
from app.invoices import document
from app.invoices.errors import InvoiceNotFound
from app.invoices.mailing import MailingContext, mail_issued
from app.invoices.models import CreditNote, Invoice, IssuedDocument
from app.messages import msg
from app.vendor_settings import VendorIdentity
from storage import BlobStore


class Issued(StrEnum):
    """What an issued document is: both have a number, a client and one archived PDF."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"

    @property
    def model(self) -> type[IssuedDocument]:
        return Invoice if self is Issued.INVOICE else CreditNote

    @property
    def document_kind(self) -> DocumentKind:
        # both are accounting documents, kept 10 years (the retention rules of the kind)
        return DocumentKind.INVOICE if self is Issued.INVOICE else DocumentKind.CREDIT_NOTE


def invoice_document(
    session: Session, invoice: Invoice, vendor: VendorIdentity
) -> document.InvoiceDocument:
    contract = session.get(Contract, invoice.contract_id) if invoice.contract_id else None
    return document.invoice_document(invoice, vendor, contract.number if contract else None)


def documents_to_render(
    session: Session, kind: Issued, ids: Sequence[int], vendor: VendorIdentity
) -> list[tuple[int, document.InvoiceDocument]]:
    """What each of ``ids`` shows, in order, leaving out those whose PDF already exists
    (the attach step checks again under a lock: this only saves a needless rendering)."""
    found: list[tuple[int, document.InvoiceDocument]] = []
    for issued_id in ids:
        if kind is Issued.INVOICE:
            invoice = session.get(Invoice, issued_id)
            if invoice is None:
                raise InvoiceNotFound(
                    msg("Facture n° {issued_id} introuvable.", issued_id=issued_id)
                )
            if invoice.document_id is None:
                found.append((issued_id, invoice_document(session, invoice, vendor)))
        else:
            note = session.get(CreditNote, issued_id)
            if note is None:
                raise InvoiceNotFound(msg("Avoir n° {issued_id} introuvable.", issued_id=issued_id))
            if note.document_id is None:
                found.append((issued_id, document.credit_note_document(note, vendor)))
    return found


def attach_pdf(
    session: Session,
    store: BlobStore,
    kind: Issued,
    issued_id: int,
    pdf: bytes,
    *,
    now: datetime,
    actor: str,
    mailing: MailingContext | None = None,
) -> bool:
    """Deposit ``pdf`` under the document's number and attach it, unless a PDF is attached
    already; True when this call attached it. The row is locked first (``FOR UPDATE``; on
    SQLite the transaction holds the write lock): a concurrent producer waits, then finds
    the PDF attached and deposits nothing, not even a blob. With ``mailing``, the document
    is mailed to the client's billing contacts in the same transaction
    (``mailing.mail_issued``): once, with the PDF."""
    model = kind.model
    row = session.execute(
        select(model.id, model.document_id).where(model.id == issued_id).with_for_update()
    ).first()
    if row is None:
        raise InvoiceNotFound(msg("Document émis n° {issued_id} introuvable.", issued_id=issued_id))
    if row.document_id is not None:
        return False
    issued = session.get(model, issued_id, populate_existing=True)
    assert issued is not None
    archived = deposit(
        session,
        store,
        kind=kind.document_kind,
        client_id=issued.client_id,
        reference=issued.number,
        version=1,
        data=pdf,
        media_type="application/pdf",
        filename=f"{issued.number}.pdf",
        now=now,
        actor=actor,
    )
    issued.document_id = archived.id
    if mailing is not None:
        mail_issued(session, issued, pdf, mailing, now=now, actor=actor)
    return True


def without_pdf(session: Session, kind: Issued = Issued.INVOICE) -> list[int]:
    """Issued documents whose PDF was never archived (a failure between issuing and
    archiving), oldest first: the next producer run produces them."""
    model = kind.model
    return list(
        session.scalars(select(model.id).where(model.document_id.is_(None)).order_by(model.id))
    )


def has_pdf(session: Session, kind: Issued, issued_id: int) -> bool:
    model = kind.model
    return session.scalar(select(model.document_id).where(model.id == issued_id)) is not None
