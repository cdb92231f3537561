"""Depositing and finding archived documents."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, and_, or_, select
from sqlalchemy.orm import Session, aliased

from app.audit import services as audit
from app.audit.models import AuditEvent
from app.clients import services as clients
from app.clients.models import Client
from app.clock import business_date
from app.config import RetentionPolicy
from app.contracts.models import Contract, ContractVersion
from app.documents import retention as rules
from app.documents.errors import (
    DocumentNotFound,
    DocumentPurged,
)
from app.documents.models import Document, DocumentKind
from app.documents.services import iso_day
from app.signatures.models import SignatureRequest
from storage import BlobCorrupted, BlobNotFound, BlobStore, is_key


def apply_retention(
    session: Session, client: Client, *, policy: RetentionPolicy, now: datetime, actor: str
) -> list[Document]:
    """(Re)compute the retention end of every live document of `client` from its kind, its
    date and the client's termination date; journal each change. Returns the changed ones."""
    changed: list[Document] = []
    for document in documents_of_client(session, client.id):
        until = rules.retention_until(
            document.kind,
            created_on=business_date(document.created_at),
            terminated_on=client.terminated_on,
            policy=policy,
        )
        basis = rules.retention_basis(document.kind, policy)
        if until == document.retention_until and basis == document.retention_basis:
            continue
        audit.record(
            session,
            now=now,
            actor=actor,
            action="document.retention_set",
            subject_type="document",
            subject_id=document.id,
            client_id=client.id,
            details={
                "retention_until": iso_day(until),
                "previous": iso_day(document.retention_until),
                "basis": basis,
            },
        )
        document.retention_until = until
        document.retention_basis = basis
        changed.append(document)
    return changed


def terminate_client(
    session: Session,
    client: Client,
    *,
    on: date,
    reason: str,
    policy: RetentionPolicy,
    actor: str,
    now: datetime,
) -> Client:
    """Record the termination, then date the end of retention of the client's documents."""
    clients.terminate(session, client, on=on, reason=reason, actor=actor, now=now)
    apply_retention(session, client, policy=policy, now=now, actor=actor)
    return client


def set_legal_hold(
    session: Session,
    document: Document,
    *,
    hold: bool,
    reason: str,
    actor: str,
    now: datetime,
) -> Document:
    """Place or lift a legal hold: while held, a document is never purged."""
    if document.purged_at is not None:
        raise DocumentPurged(
            f"Le document n° {document.id} a été supprimé le "
            f"{business_date(document.purged_at).isoformat()} (fin de conservation)."
        )
    document.legal_hold = hold
    document.legal_hold_reason = (reason.strip() or None) if hold else None
    audit.record(
        session,
        now=now,
        actor=actor,
        action="document.legal_hold_set" if hold else "document.legal_hold_lifted",
        subject_type="document",
        subject_id=document.id,
        client_id=document.client_id,
        details={"reason": reason.strip()} if hold else {},
    )
    return document


def document_metadata(session: Session, document_id: int) -> Row[Any]:
    """One document's metadata as a plain row of `LIST_COLUMNS`: what the API's metadata read
    serialises, without building and tracking an ORM object (a third of that request's
    server time, py-spy under bench/api.py)."""
    row = session.execute(select(*LIST_COLUMNS).where(Document.id == document_id)).first()
    if row is None:
        raise DocumentNotFound(f"Document n° {document_id} introuvable.")
    return row


@dataclass
class ScrubReport:
    """What `storage scrub` found: blobs re-hashed, and every problem by kind."""

    checked: int = 0
    mismatches: list[str] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    """(what references the blob, its key) for each reference to a blob that is not stored."""
    orphans: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.mismatches or self.missing or self.orphans)


REVISION_EVENTS: dict[str, tuple[str, ...]] = {
    "signature.requested": ("prepared_sha256",),
    "signature.signed": ("document_sha256_before", "document_sha256_after"),
    "signature.sealed": ("document_sha256_before", "document_sha256_after"),
}
"""Journal events naming a revision of a signature request's PDF, and the fields that do."""


def revision_keys(
    session: Session, *, client_id: int | None = None
) -> dict[int, dict[str, list[str]]]:
    """Every revision of every signature request (of one client's contracts, if given):
    {request id: {blob key: [who names it]}}.

    A revision is the prepared (certified) PDF, the PDF after each signature, and the sealed
    one: named by the request's `current_sha256` and by its journal events (`REVISION_EVENTS`;
    `signature.signed` is about a signer and names its request in its details)."""
    revisions: dict[int, dict[str, list[str]]] = {}
    requests = select(SignatureRequest.id, SignatureRequest.current_sha256).where(
        SignatureRequest.current_sha256.is_not(None)
    )
    events = select(
        AuditEvent.id, AuditEvent.action, AuditEvent.subject_id, AuditEvent.details
    ).where(AuditEvent.action.in_(REVISION_EVENTS))
    if client_id is not None:
        requests = requests.where(
            SignatureRequest.contract_version_id.in_(
                select(ContractVersion.id)
                .join(Contract, Contract.id == ContractVersion.contract_id)
                .where(Contract.client_id == client_id)
            )
        )
        events = events.where(AuditEvent.client_id == client_id)
    for request_id, sha256 in session.execute(requests.order_by(SignatureRequest.id)):
        keys = revisions.setdefault(request_id, {})
        keys.setdefault(sha256, []).append(f"demande de signature n° {request_id}")
    for event_id, action, subject_id, details in session.execute(events.order_by(AuditEvent.id)):
        data = json.loads(details) if details else {}
        if not isinstance(data, dict):
            continue
        owner = data.get("request") if action == "signature.signed" else subject_id
        if isinstance(owner, int):
            request_id = owner
        elif isinstance(owner, str) and owner.isdigit():
            request_id = int(owner)
        else:
            continue
        for name in REVISION_EVENTS[action]:
            key = data.get(name)
            if isinstance(key, str) and is_key(key):
                keys = revisions.setdefault(request_id, {})
                keys.setdefault(key, []).append(f"journal n° {event_id} ({action})")
    return revisions


def retired_requests(session: Session) -> set[int]:
    """Signature requests whose revisions have been purged with their contract: the signed
    document is purged or, for a request that never produced one (cancelled, declined,
    expired), the version's contract document is."""
    signed = aliased(Document)
    original = aliased(Document)
    return set(
        session.scalars(
            select(SignatureRequest.id)
            .join(ContractVersion, ContractVersion.id == SignatureRequest.contract_version_id)
            .join(original, original.id == ContractVersion.document_id)
            .outerjoin(signed, signed.id == SignatureRequest.signed_document_id)
            .where(
                or_(
                    signed.purged_at.is_not(None),
                    and_(
                        SignatureRequest.signed_document_id.is_(None),
                        original.purged_at.is_not(None),
                    ),
                )
            )
        )
    )


def referenced_blobs(session: Session) -> dict[str, list[str]]:
    """Every blob key some row references, with what references it ("document n° 3"…).

    The rule (what `storage scrub` calls an orphan is a stored blob none of these name):
    - a live document row (`documents.sha256`, not purged: a purged document's blob is
      deleted on purpose, so it is not missing either);
    - a revision of a signature request (`revision_keys`): its current revision
      (`signature_requests.current_sha256`: the prepared PDF of an in-flight request, or its
      latest signed state) and every revision its journal events name. Each intermediate
      revision of a signed PDF is the evidence of one step (the certification, each
      signature, the seal): kept as long as the signed contract, never collected before.
      They are purged with it (`purge.purge_document`), after which they are no longer
      referenced (`retired_requests`);
    - a sealed anchor of the audit journal (`audit.sealed_anchor_blobs`): written when no
      timestamp authority is configured, kept for good so that truncation stays detectable.
    Anything else in the store is an orphan: a blob written by a transaction that did not
    commit (blob first, row second), or a file nobody accounts for."""
    refs: dict[str, list[str]] = {}
    for document_id, sha256 in session.execute(
        select(Document.id, Document.sha256)
        .where(Document.purged_at.is_(None))
        .order_by(Document.id)
    ):
        refs.setdefault(sha256, []).append(f"document n° {document_id}")
    retired = retired_requests(session)
    for request_id, keys in sorted(revision_keys(session).items()):
        if request_id in retired:
            continue
        for key, holders in keys.items():
            refs.setdefault(key, []).extend(holders)
    for key in sorted(audit.sealed_anchor_blobs(session)):
        refs.setdefault(key, []).append("ancre scellée du journal")
    return refs


def scrub(
    store: BlobStore,
    referenced: dict[str, list[str]],
    keys: Iterable[str],
    report: ScrubReport,
) -> ScrubReport:
    """Re-hash each stored key of `keys`; sort problems into `report`. `keys` is the store's
    listing (possibly wrapped in a progress bar); references whose key is never listed are
    missing."""
    seen: set[str] = set()
    for key in keys:
        seen.add(key)
        report.checked += 1
        try:
            store.verify(key)
        except BlobCorrupted:
            report.mismatches.append(key)
        except BlobNotFound:
            # Deleted between listing and reading: counts as missing only if referenced.
            seen.discard(key)
            continue
        if key not in referenced:
            report.orphans.append(key)
    for key, holders in sorted(referenced.items()):
        if key not in seen:
            report.missing.extend((holder, key) for holder in holders)
    return report


@dataclass(frozen=True)
class Page:
    items: Sequence[Row[Any]]
    """Plain rows of `LIST_COLUMNS` (attribute access like a Document): no ORM objects to build
    and track for a page that is only serialised."""
    next_cursor: str | None


LIST_COLUMNS = (
    Document.id,
    Document.kind,
    Document.client_id,
    Document.reference,
    Document.version,
    Document.sha256,
    Document.size,
    Document.media_type,
    Document.filename,
    Document.created_at,
    Document.retention_basis,
    Document.retention_until,
    Document.legal_hold,
    Document.legal_hold_reason,
    Document.purged_at,
)


SORT_COLUMNS = {
    "id": Document.id,
    "created_at": Document.created_at,
    "reference": Document.reference,
    "size": Document.size,
}
"""Sort keys of the document list; prefix with "-" for descending order."""


def list_documents(
    session: Session,
    *,
    client_id: int | None = None,
    kind: DocumentKind | None = None,
    reference: str | None = None,
    sha256: str | None = None,
    created_from: datetime | None = None,
    created_before: datetime | None = None,
    sort: str = "id",
    cursor: int | None = None,
    limit: int = 50,
) -> Page:
    """A page of documents matching every given filter, in `sort` order, after `cursor`.

    The cursor is the id of the last document of the previous page: its sort value is read
    back from the database, so every id is a well-defined position in any order (a cursor
    carrying the value itself could be forged or misread), and an unknown id is a 404."""
    column = SORT_COLUMNS[sort.lstrip("-")]
    descending = sort.startswith("-")
    stmt = select(*LIST_COLUMNS)
    if client_id is not None:
        stmt = stmt.where(Document.client_id == client_id)
    if kind is not None:
        stmt = stmt.where(Document.kind == kind)
    if reference is not None:
        stmt = stmt.where(Document.reference == reference)
    if sha256 is not None:
        stmt = stmt.where(Document.sha256 == sha256)
    if created_from is not None:
        stmt = stmt.where(Document.created_at >= created_from)
    if created_before is not None:
        stmt = stmt.where(Document.created_at < created_before)
    if cursor is not None:
        last = session.execute(select(column, Document.id).where(Document.id == cursor)).first()
        if last is None:
            raise DocumentNotFound(f"Curseur inconnu : aucun document n° {cursor}.")
        value, last_id = last
        if column is Document.id:
            stmt = stmt.where(Document.id < last_id if descending else Document.id > last_id)
        elif descending:
            stmt = stmt.where(or_(column < value, and_(column == value, Document.id < last_id)))
        else:
            stmt = stmt.where(or_(column > value, and_(column == value, Document.id > last_id)))
    if descending:
        stmt = stmt.order_by(column.desc(), Document.id.desc())
    else:
        stmt = stmt.order_by(column, Document.id)
    rows = session.execute(stmt.limit(limit + 1)).all()
    items = rows[:limit]
    next_cursor = str(items[-1].id) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


def document_events(session: Session, document: Document) -> Sequence[AuditEvent]:
    """The journal events about one document (deposit, reads, holds, purge…), in order."""
    return session.scalars(
        select(AuditEvent)
        .where(AuditEvent.subject_type == "document", AuditEvent.subject_id == str(document.id))
        .order_by(AuditEvent.id)
    ).all()


def documents_of_client(session: Session, client_id: int) -> Sequence[Document]:
    """The client's documents whose bytes are still archived (not purged), oldest first."""
    return session.scalars(
        select(Document)
        .where(Document.client_id == client_id, Document.purged_at.is_(None))
        .order_by(Document.id)
    ).all()
