"""What a signed-in contact sees of its own client, and nothing of another's: every query
here is filtered by the session's client, and a number that is not that client's is the same
404 as a number that does not exist. Every page read is journaled (who, which page)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.archive.models import RestitutionRequest
from app.audit import services as audit
from app.client_space.errors import SpaceDocumentNotFound
from app.client_space.models import SpaceSession
from app.clients.billing_contacts import contacts_of
from app.clients.models import BillingContact, Client, ClientStatus
from app.contracts.models import Contract, ContractVersion
from app.documents.models import Document, DocumentKind
from app.invoices import payments
from app.invoices.errors import RateMissing
from app.invoices.models import CreditNote, Invoice
from app.messages import msg
from app.signatures.models import SignatureRequest
from app.terms.acceptances import Opposable, opposable_for
from app.terms.models import CgvNotification
from app.terms.notifications import pending_notifications

# What the space lets a contact download: the signed contracts and their evidence files, the
# invoices and credit notes, its CGV and its restitution archives. Never the drafts.
VISIBLE_KINDS = (
    DocumentKind.SIGNED_CONTRACT,
    DocumentKind.EVIDENCE,
    DocumentKind.INVOICE,
    DocumentKind.CREDIT_NOTE,
    DocumentKind.RESTITUTION,
)


class PaymentState(StrEnum):
    PAID = "paid"
    DUE = "due"
    OVERDUE = "overdue"

    @property
    def label(self) -> str:
        return {"paid": "Payée", "due": "À payer", "overdue": "En retard"}[self.value]


@dataclass(frozen=True)
class InvoiceRow:
    invoice: Invoice
    state: PaymentState
    amount_due: Decimal
    overdue: payments.Overdue | None
    # Late, but the interest cannot be computed yet (the reference rate of its due date is not
    # entered): said in French instead of a figure, never an error page for the client.
    interest_pending: str | None = None


@dataclass(frozen=True)
class SignedContract:
    """A signed contract as the space lists it: its sealed PDF, then the evidence files that
    prove it (PDF to read, JSON for a program), each absent once purged."""

    number: str
    version: int
    signed_at: datetime | None
    signed: Document
    evidence_pdf: Document | None
    evidence_json: Document | None


@dataclass(frozen=True)
class SpaceHome:
    client: Client
    contracts: Sequence[SignedContract]  # newest first
    archives: Sequence[Document]
    invoices: list[InvoiceRow]
    credit_notes: Sequence[CreditNote]
    opposable: Opposable
    pending: Sequence[CgvNotification]
    contacts: Sequence[BillingContact]
    restitution: RestitutionRequest | None

    @property
    def terminated(self) -> bool:
        return self.client.status is ClientStatus.TERMINATED


def journal_read(session: Session, space: SpaceSession, page: str, *, now: datetime) -> None:
    audit.record_about_client(
        session,
        space.client_id,
        now=now,
        actor=f"contact:{space.email}",
        action="client_space.read",
        details={"page": page, "session_id": space.id},
    )


def _documents(session: Session, client_id: int, *kinds: DocumentKind) -> Sequence[Document]:
    return session.scalars(
        select(Document)
        .where(
            Document.client_id == client_id,
            Document.kind.in_(kinds),
            Document.purged_at.is_(None),
        )
        .order_by(Document.created_at.desc(), Document.id.desc())
    ).all()


def signed_contracts(session: Session, client_id: int) -> list[SignedContract]:
    """The client's signed contracts, newest first, each with its evidence files: one entry
    per signed version, not a flat list of files named by their references."""
    visible = {
        document.id: document
        for document in _documents(
            session, client_id, DocumentKind.SIGNED_CONTRACT, DocumentKind.EVIDENCE
        )
    }
    requests = session.scalars(
        select(SignatureRequest)
        .join(ContractVersion, SignatureRequest.contract_version_id == ContractVersion.id)
        .join(Contract, ContractVersion.contract_id == Contract.id)
        .where(Contract.client_id == client_id, SignatureRequest.signed_document_id.is_not(None))
        .order_by(SignatureRequest.completed_at.desc(), SignatureRequest.id.desc())
    ).all()
    return [
        SignedContract(
            number=request.contract_version.contract.number,
            version=request.contract_version.version,
            signed_at=request.completed_at,
            signed=visible[request.signed_document_id],
            evidence_pdf=visible.get(request.evidence_document_id or 0),
            evidence_json=visible.get(request.evidence_json_id or 0),
        )
        for request in requests
        if request.signed_document_id in visible
    ]


def invoice_row(session: Session, invoice: Invoice, as_of: date) -> InvoiceRow:
    try:
        late = payments.overdue(session, invoice, as_of)
    except RateMissing:
        due = payments.amount_due(session, invoice)
        pending = "intérêts de retard calculés dès que le taux de référence sera publié"
        return InvoiceRow(invoice, PaymentState.OVERDUE, due, None, pending)
    if late is not None:
        return InvoiceRow(invoice, PaymentState.OVERDUE, late.amount_due, late)
    due = payments.amount_due(session, invoice)
    state = PaymentState.DUE if due > 0 else PaymentState.PAID
    return InvoiceRow(invoice, state, max(due, Decimal("0.00")), None)


def home(session: Session, space: SpaceSession, *, as_of: date, now: datetime) -> SpaceHome:
    client = session.get(Client, space.client_id)
    assert client is not None  # foreign key
    invoices = session.scalars(
        select(Invoice)
        .where(Invoice.client_id == client.id)
        .order_by(Invoice.issued_on.desc(), Invoice.id.desc())
    ).all()
    credit_notes = session.scalars(
        select(CreditNote)
        .where(CreditNote.client_id == client.id)
        .order_by(CreditNote.issued_on.desc(), CreditNote.id.desc())
    ).all()
    restitution = session.scalar(
        select(RestitutionRequest)
        .where(RestitutionRequest.client_id == client.id)
        .order_by(RestitutionRequest.id.desc())
        .limit(1)
    )
    journal_read(session, space, "accueil", now=now)
    return SpaceHome(
        client=client,
        contracts=signed_contracts(session, client.id),
        archives=_documents(session, client.id, DocumentKind.RESTITUTION),
        invoices=[invoice_row(session, invoice, as_of) for invoice in invoices],
        credit_notes=credit_notes,
        opposable=opposable_for(session, client.id, as_of),
        pending=pending_notifications(session, client.id),
        contacts=contacts_of(session, client.id),
        restitution=restitution,
    )


def document_of(session: Session, client_id: int, document_id: int) -> Document:
    """One of the client's visible documents; SpaceDocumentNotFound for any other number."""
    document = session.get(Document, document_id)
    if (
        document is None
        or document.client_id != client_id
        or document.kind not in VISIBLE_KINDS
        or document.purged_at is not None
    ):
        raise SpaceDocumentNotFound(
            msg("Document n° {document_id} introuvable dans votre espace.", document_id=document_id)
        )
    return document


def client_of(session: Session, space: SpaceSession) -> Client:
    client = session.get(Client, space.client_id)
    assert client is not None  # foreign key
    return client
