"""Retention purge use cases: delete what has passed its retention, anonymise the client's
personal data, record it all in a deletion certificate.

Each function works in the caller's transaction and never commits; `app.archive.jobs.purge`
runs them one document (or one client) per transaction so that a crash loses at most the step
in progress, and a rerun finds nothing more to do for what is done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import String, cast, exists, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.archive.services.scrub import revision_keys
from app.audit import services as audit
from app.audit.models import AuditEvent
from app.clients.models import Client
from app.contracts.models import Contract, ContractVersion
from app.documents import retention as rules
from app.documents.models import Document, DocumentKind
from app.documents.services import deposit, journal_document, shares_bytes
from app.events import recording as events
from app.events.recording import Resource
from app.rendering.french import format_datetime
from app.retention_settings import RetentionPolicy
from app.signatures import page_images
from app.signatures.models import SignatureRequest, Signer
from app.terms.models import CgvAcceptance
from storage import BlobLocked, BlobStore

ANONYMISED_NAME = "Contact supprimé"
SENT_ACTION = "deletion_certificate.sent"


@dataclass(frozen=True)
class DocumentItem:
    """What a purged and a deferred item both say of their document (`_identity`)."""

    document_id: int
    client_id: int | None
    kind: str
    reference: str
    version: int
    sha256: str


@dataclass(frozen=True)
class PurgedItem(DocumentItem):
    size: int
    retention_until: date | None
    retention_basis: str | None
    blob_deleted: bool


@dataclass(frozen=True)
class DeferredItem(DocumentItem):
    """A due document whose bytes the store still locks (a write-once retention ending later
    than the recomputed one, or a hold placed directly on the store): kept, not purged; a
    later run purges it once the lock ends."""

    locked_until: datetime | None
    legal_hold: bool

    @property
    def reason(self) -> str:
        """Why it is kept, in French, for the command's output and the certificate."""
        return lock_reason(self.locked_until, self.legal_hold)


def lock_reason(locked_until: datetime | None, legal_hold: bool) -> str:
    if legal_hold:
        return "verrou du stockage : gel juridique en cours"
    when = format_datetime(locked_until) if locked_until is not None else "date inconnue"
    return f"verrou de conservation du stockage (écriture unique) jusqu'au {when}"


def _identity(document: Document) -> tuple[int, int | None, str, str, int, str]:
    """The fields of `DocumentItem`, in their order, that open a purged or a deferred item."""
    return (
        document.id,
        document.client_id,
        document.kind.value,
        document.reference,
        document.version,
        document.sha256,
    )


def _due(today: date) -> list[ColumnElement[bool]]:
    return [
        Document.purged_at.is_(None),
        Document.legal_hold.is_(False),
        Document.retention_until.is_not(None),
        Document.retention_until < today,
    ]


def due_documents(session: Session, today: date) -> Sequence[Document]:
    """Live documents whose retention ended before `today` and that no legal hold keeps."""
    return session.scalars(select(Document).where(*_due(today)).order_by(Document.id)).all()


def purge_document(
    session: Session,
    store: BlobStore,
    document_id: int,
    *,
    today: date,
    now: datetime,
    actor: str,
) -> PurgedItem | DeferredItem | None:
    """Delete one document's bytes and mark its row purged; None if it is no longer due (done
    by an earlier run, or held meanwhile). The blob goes first: if the commit then fails, the
    rerun finds the row still due and its blob already gone, and completes the step. If the
    store's lock still protects the blob, the document is kept (journaled, `DeferredItem`)."""
    document = session.scalar(
        select(Document).where(Document.id == document_id, *_due(today)).with_for_update()
    )
    if document is None:
        return None
    shared = shares_bytes(session, document)
    # Identical bytes kept under another (live) record stay: blobs are shared by content.
    try:
        blob_deleted = False if shared else store.delete(document.sha256)
    except BlobLocked as locked:
        return _defer(session, document, locked, now=now, actor=actor)
    document.purged_at = now
    _purge_revisions(session, store, document, now=now, actor=actor)
    page_images.discard(session, store, document.id)
    item = PurgedItem(
        *_identity(document),
        size=document.size,
        retention_until=document.retention_until,
        retention_basis=document.retention_basis,
        blob_deleted=blob_deleted,
    )
    journal_document(
        session,
        document,
        "document.purged",
        now=now,
        actor=actor,
        details={
            "kind": item.kind,
            "reference": item.reference,
            "version": item.version,
            "sha256": item.sha256,
            "size": item.size,
            "retention_until": item.retention_until.isoformat() if item.retention_until else None,
            "blob_deleted": blob_deleted,
        },
    )
    events.record(
        session,
        "document.purged",
        Resource("document", document.id, f"/api/v1/documents/{document.id}"),
        {
            "kind": item.kind,
            "reference": item.reference,
            "version": item.version,
            "client_id": item.client_id,
            "retention_until": item.retention_until.isoformat() if item.retention_until else None,
        },
        now=now,
    )
    return item


def _defer(
    session: Session, document: Document, locked: BlobLocked, *, now: datetime, actor: str
) -> DeferredItem:
    item = DeferredItem(
        *_identity(document),
        locked_until=locked.retain_until,
        legal_hold=locked.legal_hold,
    )
    journal_document(
        session,
        document,
        "document.purge_deferred",
        now=now,
        actor=actor,
        details={
            "sha256": document.sha256,
            "locked_until": locked.retain_until.isoformat() if locked.retain_until else None,
            "legal_hold": locked.legal_hold,
        },
    )
    return item


def _purge_revisions(
    session: Session, store: BlobStore, document: Document, *, now: datetime, actor: str
) -> None:
    """The intermediate revisions of the signature requests that end with `document` go with
    it: those of the request it is the signed PDF of, or, for the contract document of a
    version, those of its requests that never produced a signed PDF (cancelled, declined,
    expired). Each is a prefix of the signed PDF's bytes, kept as evidence for exactly as long.
    A revision whose bytes a live document also holds stays; each deletion is journaled."""
    if document.kind is DocumentKind.SIGNED_CONTRACT:
        condition = SignatureRequest.signed_document_id == document.id
    elif document.kind is DocumentKind.CONTRACT:
        condition = SignatureRequest.signed_document_id.is_(None) & (
            SignatureRequest.contract_version_id.in_(
                select(ContractVersion.id).where(ContractVersion.document_id == document.id)
            )
        )
    else:
        return
    request_ids = set(session.scalars(select(SignatureRequest.id).where(condition)))
    if not request_ids:
        return
    revisions = revision_keys(session, client_id=document.client_id)
    for request_id in sorted(request_ids):
        deleted: list[str] = []
        for key in sorted(revisions.get(request_id, {})):
            live = session.scalar(
                select(exists().where(Document.sha256 == key, Document.purged_at.is_(None)))
            )
            if not live and _delete_unless_locked(store, key):
                deleted.append(key)
        audit.record(
            session,
            now=now,
            actor=actor,
            action="signature.revisions_purged",
            subject_type="signature_request",
            subject_id=request_id,
            client_id=document.client_id,
            details={"document": document.id, "deleted_sha256": deleted},
        )


def _delete_unless_locked(store: BlobStore, key: str) -> bool:
    """A revision the store still locks stays, named by the journal: a later scrub shows it."""
    try:
        return store.delete(key)
    except BlobLocked:
        return False


def anonymisation_due(client: Client, policy: RetentionPolicy, today: date) -> bool:
    """The client's contact data goes once its other data's retention has ended."""
    if client.anonymised_at is not None or client.terminated_on is None:
        return False
    return rules.add_months(client.terminated_on, policy.client_data_months) < today


def uncertified(session: Session, client_id: int) -> Sequence[Document]:
    """Purged documents of the client that no deletion certificate lists yet."""
    return session.scalars(
        select(Document)
        .where(
            Document.client_id == client_id,
            Document.purged_at.is_not(None),
            Document.purge_certificate_id.is_(None),
        )
        .order_by(Document.id)
    ).all()


def unsent_certificates(session: Session) -> Sequence[Document]:
    """Certificates issued whose email has not been recorded as sent (a crash in between)."""
    sent = select(AuditEvent.subject_id).where(AuditEvent.action == SENT_ACTION)
    return session.scalars(
        select(Document)
        .where(
            Document.kind == DocumentKind.DELETION_CERTIFICATE,
            Document.purged_at.is_(None),
            cast(Document.id, String(40)).not_in(sent),
        )
        .order_by(Document.id)
    ).all()


def clients_to_certify(session: Session, policy: RetentionPolicy, today: date) -> list[int]:
    """Clients with purged documents not yet certified, or whose contact data is due for
    anonymisation and not already announced by a certificate waiting to be sent."""
    ids = set(
        session.scalars(
            select(Document.client_id).where(
                Document.client_id.is_not(None),
                Document.purged_at.is_not(None),
                Document.purge_certificate_id.is_(None),
            )
        ).all()
    )
    waiting = {c.client_id for c in unsent_certificates(session)}
    for client in session.scalars(
        select(Client).where(Client.terminated_on.is_not(None), Client.anonymised_at.is_(None))
    ):
        if anonymisation_due(client, policy, today) and client.id not in waiting:
            ids.add(client.id)
    return sorted(i for i in ids if i is not None)


def next_certificate_reference(session: Session, client_id: int) -> str:
    count = session.scalar(
        select(func.count())
        .select_from(Document)
        .where(Document.client_id == client_id, Document.kind == DocumentKind.DELETION_CERTIFICATE)
    )
    return f"SUP-{client_id:06d}-{(count or 0) + 1:02d}"


def issue_certificate(
    session: Session,
    store: BlobStore,
    client: Client,
    *,
    certified: Sequence[int],
    reference: str,
    pdf: bytes,
    policy: RetentionPolicy,
    now: datetime,
    actor: str,
) -> Document:
    """Archive the certificate PDF and link the purged documents it lists to it."""
    certificate = deposit(
        session,
        store,
        kind=DocumentKind.DELETION_CERTIFICATE,
        client_id=client.id,
        reference=reference,
        version=1,
        data=pdf,
        media_type="application/pdf",
        filename=f"{reference}.pdf",
        now=now,
        actor=actor,
        retention=policy,
    )
    for document in session.scalars(select(Document).where(Document.id.in_(certified))):
        document.purge_certificate_id = certificate.id
    audit.record_about_client(
        session,
        client.id,
        now=now,
        actor=actor,
        action="client.deletion_certificate_issued",
        details={
            "certificate_id": certificate.id,
            "reference": reference,
            "sha256": certificate.sha256,
            "documents": list(certified),
        },
    )
    return certificate


def anonymise_client(session: Session, client: Client, *, now: datetime, actor: str) -> None:
    """Replace the contact's personal data on the client row, which stays (company identity
    for the invoices kept by law). Signers and CGV acceptances are evidence: their personal
    data goes too once no signed contract or evidence file of the client is kept."""
    client.signer_name = ANONYMISED_NAME
    client.signer_email = f"supprime-{client.id}@anonyme.invalid"
    # with the company's name, a capacity (« Gérant ») still points at one person
    client.signer_title = None
    client.termination_reason = None
    client.anonymised_at = now
    evidence_kept = session.scalar(
        select(
            exists().where(
                Document.client_id == client.id,
                Document.purged_at.is_(None),
                Document.kind.in_(list(rules.CONTRACTUAL)),
            )
        )
    )
    anonymised_evidence = 0
    if not evidence_kept:
        anonymised_evidence = anonymise_evidence(session, client.id)
    audit.record_about_client(
        session,
        client.id,
        now=now,
        actor=actor,
        action="client.anonymised",
        details={"evidence_rows": anonymised_evidence, "evidence_kept": bool(evidence_kept)},
    )


def anonymise_evidence(session: Session, client_id: int) -> int:
    """Blank the personal data of the client's signers and CGV acceptances; return how many
    rows changed (0 on a rerun)."""
    changed = 0
    for acceptance in session.scalars(
        select(CgvAcceptance).where(CgvAcceptance.client_id == client_id)
    ):
        if acceptance.person_name != ANONYMISED_NAME:
            acceptance.person_name = ANONYMISED_NAME
            acceptance.person_email = "anonyme@anonyme.invalid"
            acceptance.ip = None
            acceptance.user_agent = None
            changed += 1
    signers = select(Signer).join(SignatureRequest).join(ContractVersion).join(Contract)
    for signer in session.scalars(signers.where(Contract.client_id == client_id)):
        if signer.name != ANONYMISED_NAME:
            signer.name = ANONYMISED_NAME
            signer.email = "anonyme@anonyme.invalid"
            signer.ip = None
            signer.user_agent = None
            changed += 1
    return changed


def record_sent(
    session: Session,
    certificate: Document,
    *,
    policy: RetentionPolicy,
    today: date,
    now: datetime,
    actor: str,
) -> None:
    """After the email went out: journal it and anonymise the contact if due (the address was
    needed until now)."""
    journal_document(
        session,
        certificate,
        SENT_ACTION,
        now=now,
        actor=actor,
        details={"reference": certificate.reference},
    )
    client = session.get(Client, certificate.client_id) if certificate.client_id else None
    if client is not None and anonymisation_due(client, policy, today):
        anonymise_client(session, client, now=now, actor=actor)
