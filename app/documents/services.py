"""Depositing archived documents and reading them back, integrity-checked.

`read_content` and `open_content` are the only ways the application reads an archived
document's bytes: the SHA-256 is verified, the read journaled, and a missing or altered blob
is journaled as an integrity failure and refused (`DocumentIntegrityFailed`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, BinaryIO

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from app.audit import services as audit
from app.clients.models import Client
from app.clock import business_date
from app.documents import retention as rules
from app.documents.errors import (
    DocumentConflict,
    DocumentIntegrityFailed,
    DocumentNotFound,
    DocumentPurged,
)
from app.documents.models import Document, DocumentKind
from app.messages import msg
from app.retention_settings import RetentionPolicy
from storage import BlobCorrupted, BlobNotFound, BlobRef, BlobStore


def deposit(
    session: Session,
    store: BlobStore,
    *,
    kind: DocumentKind,
    client_id: int | None,
    reference: str,
    version: int,
    data: bytes,
    media_type: str,
    filename: str,
    now: datetime,
    actor: str,
    retention: RetentionPolicy | None = None,
) -> Document:
    """Blob first, then the row: a failed commit leaves at worst an orphan blob (collected by
    the scrub), never a row pointing at nothing. Depositing the same bytes again is a no-op.
    A known retention end becomes the blob's write-once lock (`lock_blob`)."""
    document = record_deposit(
        session,
        store.put(data),
        kind=kind,
        client_id=client_id,
        reference=reference,
        version=version,
        media_type=media_type,
        filename=filename,
        now=now,
        actor=actor,
        retention=retention,
    )
    lock_blob(store, document)
    return document


def lock_blob(store: BlobStore, document: Document) -> None:
    """Make the store refuse to delete the document's bytes before its retention end, and
    while it is under legal hold (S3 Object Lock in compliance mode, or the store's own rule).
    A lock is only ever extended: a blob shared by several documents keeps the latest end.
    Locked before the commit: should the commit fail, the orphan blob stays until that end,
    which wastes space but never loses a document."""
    if document.retention_until is not None:
        store.retain(document.sha256, rules.lock_end(document.retention_until))
    if document.legal_hold:
        store.hold(document.sha256, True)


def shares_bytes(session: Session, document: Document, *, held_only: bool = False) -> bool:
    """Whether another live (not purged) document has the same bytes (`held_only`: under a
    legal hold as well). Blobs are shared by content: deleting or releasing them for one
    record must leave those of another alone."""
    other = aliased(Document)
    same_bytes = [
        other.sha256 == document.sha256,
        other.id != document.id,
        other.purged_at.is_(None),
    ]
    if held_only:
        same_bytes.append(other.legal_hold.is_(True))
    return bool(session.scalar(select(exists().where(*same_bytes))))


def record_deposit(
    session: Session,
    ref: BlobRef,
    *,
    kind: DocumentKind,
    client_id: int | None,
    reference: str,
    version: int,
    media_type: str,
    filename: str,
    now: datetime,
    actor: str,
    retention: RetentionPolicy | None = None,
) -> Document:
    """The row of a blob already in the store (written by `deposit` or streamed by the caller)."""
    existing = session.scalar(
        select(Document).where(
            Document.kind == kind, Document.reference == reference, Document.version == version
        )
    )
    if existing is not None:
        if existing.sha256 != ref.sha256:
            raise DocumentConflict(
                msg(
                    "{kind_value} {reference} v{version} existe déjà avec un autre contenu : un "
                    "document archivé ne change jamais.",
                    kind_value=kind.value,
                    reference=reference,
                    version=version,
                )
            )
        return existing
    policy = retention or RetentionPolicy()
    client = session.get(Client, client_id) if client_id is not None else None
    document = Document(
        kind=kind,
        client_id=client_id,
        reference=reference,
        version=version,
        sha256=ref.sha256,
        size=ref.size,
        media_type=media_type,
        filename=filename,
        created_at=now,
        retention_basis=rules.retention_basis(kind, policy),
        retention_until=rules.retention_until(
            kind,
            created_on=business_date(now),
            terminated_on=client.terminated_on if client is not None else None,
            policy=policy,
        ),
        legal_hold=False,
    )
    session.add(document)
    session.flush()
    journal_document(
        session,
        document,
        "document.deposited",
        now=now,
        actor=actor,
        details={
            "kind": kind.value,
            "reference": reference,
            "version": version,
            "sha256": ref.sha256,
            "size": ref.size,
            "retention_until": iso_day(document.retention_until),
        },
    )
    return document


def iso_day(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def get_document(session: Session, document_id: int) -> Document:
    document = session.get(Document, document_id)
    if document is None:
        raise DocumentNotFound(
            msg("Document n° {document_id} introuvable.", document_id=document_id)
        )
    return document


def read_content(
    session: Session,
    store: BlobStore,
    document: Document,
    *,
    actor: str,
    now: datetime,
    journal_read: bool = True,
) -> bytes:
    """Read and verify the bytes (the store checks the hash), and journal the read (unless
    `journal_read` is False: the public CGV address, read anonymously by anyone).

    With `open_content`, the only way the application reads an archived document: a blob that
    is missing or no longer hashes to its key is journaled as an integrity failure and refused
    with `DocumentIntegrityFailed` (the caller commits the journal entry, then answers 503)."""
    _ensure_not_purged(document)
    try:
        data = store.get(document.sha256)
    except (BlobCorrupted, BlobNotFound) as exc:
        raise integrity_failure(session, document, exc, actor=actor, now=now) from exc
    if journal_read:
        journal_document(session, document, "document.read", now=now, actor=actor)
    return data


def open_content(
    session: Session,
    store: BlobStore,
    document: Document,
    *,
    actor: str,
    now: datetime,
    part: tuple[int, int] | None = None,
) -> BinaryIO:
    """`read_content` for a document streamed in chunks (a restitution archive), or only
    `part` of it, (start, length): an HTTP range, read from the store as a range.

    The whole blob is re-hashed before the stream is returned, because an HTTP status cannot
    change once the first chunk is sent: a damaged blob is refused (journaled, 503) up front.
    The whole stream verifies its hash again as it is read (a blob damaged in between breaks
    the transfer instead of completing it); a part cannot be checked alone, so the up-front
    check is its check."""
    _ensure_not_purged(document)
    try:
        store.verify(document.sha256)
        stream = (
            store.open(document.sha256)
            if part is None
            else store.open_range(document.sha256, *part)
        )
    except (BlobCorrupted, BlobNotFound) as exc:
        raise integrity_failure(session, document, exc, actor=actor, now=now) from exc
    journal_document(session, document, "document.read", now=now, actor=actor)
    return stream


def _ensure_not_purged(document: Document) -> None:
    if document.purged_at is not None:
        raise DocumentPurged(
            msg(
                "Le contenu du document n° {document_id} a été supprimé à la fin de sa durée de "
                "conservation ; le certificat de suppression en garde la trace.",
                document_id=document.id,
            )
        )


def journal_document(
    session: Session,
    document: Document,
    action: str,
    *,
    now: datetime,
    actor: str,
    details: dict[str, Any] | None = None,
) -> None:
    """The journal entry about one archived document, filed under its client."""
    audit.record_about(
        session, "document", document, now=now, actor=actor, action=action, details=details
    )


def integrity_failure(
    session: Session,
    document: Document,
    exc: BlobCorrupted | BlobNotFound,
    *,
    actor: str,
    now: datetime,
) -> DocumentIntegrityFailed:
    """Journal a failed integrity check of `document` and return the error to raise."""
    missing = isinstance(exc, BlobNotFound)
    details: dict[str, str] = {"sha256": document.sha256, "problem": "missing"}
    if isinstance(exc, BlobCorrupted):
        details = {"sha256": document.sha256, "problem": "mismatch", "actual_sha256": exc.actual}
    audit.record_about(
        session,
        "document",
        document,
        now=now,
        actor=actor,
        action="document.integrity_failed",
        details=details,
    )
    what = (
        msg("est introuvable dans le stockage")
        if missing
        else msg("ne correspond plus à son empreinte")
    )
    return DocumentIntegrityFailed(
        msg(
            "Le contenu archivé du document n° {document_id} {what} (SHA-256 attendu "
            "{document_sha256}) : il a échoué au contrôle d'intégrité et n'est pas servi. "
            "L'incident est journalisé ; restaurez le fichier depuis une sauvegarde.",
            document_id=document.id,
            what=what,
            document_sha256=document.sha256,
        )
    )
