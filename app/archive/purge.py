"""Retention purge: delete the documents that have passed their retention (the blob, then
the row marked purged), or keep and journal those the store still locks.

What follows a purge is apart: the deletion certificate that lists it
(`app.archive.certification`) and the anonymisation of the client's personal data
(`app.archive.anonymisation`). Each function works in the caller's transaction and never
commits; `app.archive.jobs.run_purge` runs them one document (or one client) per transaction so
that a crash loses at most the step in progress, and a rerun finds nothing more to do for what
is done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.archive.services.scrub import revision_keys
from app.audit import services as audit
from app.contracts.models import ContractVersion
from app.documents.models import Document, DocumentKind
from app.documents.services import journal_document, shares_bytes
from app.events import recording as events
from app.events.recording import Resource
from app.rendering.french import format_datetime
from app.signatures import page_images
from app.signatures.models import SignatureRequest
from storage import BlobLocked, BlobStore


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
