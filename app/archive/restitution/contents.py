"""What a restitution contains, read a keyset page per short transaction: the client's live
documents, its CGV acceptances, its journal excerpt, and the fingerprint of all that (a
restitution whose fingerprint is still the client's is not built again)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from app.archive.restitution.manifest import ClientIdentity
from app.audit.models import AuditEvent
from app.clients.services import get_client
from app.documents.models import Document, DocumentKind
from app.terms.acceptances import acceptances_of

Transactions = Callable[[], AbstractContextManager[Session]]
"""Opens one short transaction (`lambda: app.db.transaction(factory)` in a workflow): the
archive is written between transactions, never inside one (on SQLite a transaction holds
the write lock)."""

_ROWS_PER_QUERY = 500
"""Rows fetched per query when walking a client's documents or journal: keyset pages on the
primary key keep memory flat on SQLite and PostgreSQL alike, each page in its own short
transaction."""

_DOCUMENT_COLUMNS = (
    Document.id,
    Document.kind,
    Document.reference,
    Document.version,
    Document.sha256,
    Document.filename,
    Document.size,
    Document.created_at,
    Document.retention_until,
    Document.retention_basis,
)

BOOKKEEPING_ACTIONS = ("client.restitution", "document.read")
"""Journal events that are not a change of the client's data: producing, linking,
downloading (`restitution.*`) or reading an archive does not call for a new one."""


def _keyset(transactions: Transactions, stmt: Select[Any], key: Any) -> Iterator[Row[Any]]:
    """The rows of `stmt` in `key` order, `_ROWS_PER_QUERY` at a time."""
    last: int | None = None
    while True:
        page = stmt if last is None else stmt.where(key > last)
        with transactions() as session:
            rows = session.execute(page.order_by(key).limit(_ROWS_PER_QUERY)).all()
        yield from rows
        if len(rows) < _ROWS_PER_QUERY:
            return
        last = rows[-1].id


def _documents_stmt(client_id: int) -> Select[Any]:
    return select(*_DOCUMENT_COLUMNS).where(
        Document.client_id == client_id,
        Document.purged_at.is_(None),
        Document.kind != DocumentKind.RESTITUTION,
    )


def restituted_documents(transactions: Transactions, client_id: int) -> Iterator[Row[Any]]:
    """What a restitution contains: every live document except earlier restitution archives
    (an archive inside the next one would grow without end and change the file list), as
    plain rows of the columns the archive needs, oldest first."""
    return _keyset(transactions, _documents_stmt(client_id), Document.id)


def journal_rows(transactions: Transactions, client_id: int) -> Iterator[dict[str, Any]]:
    stmt = select(
        AuditEvent.id,
        AuditEvent.at,
        AuditEvent.actor,
        AuditEvent.action,
        AuditEvent.subject_type,
        AuditEvent.subject_id,
        AuditEvent.details,
        AuditEvent.prev_hash,
        AuditEvent.hash,
    ).where(AuditEvent.client_id == client_id)
    for ev in _keyset(transactions, stmt, AuditEvent.id):
        yield {
            "id": ev.id,
            "at": ev.at.isoformat(),
            "actor": ev.actor,
            "action": ev.action,
            "subject": f"{ev.subject_type}:{ev.subject_id}",
            "details": json.loads(ev.details),
            "prev_hash": ev.prev_hash,
            "hash": ev.hash,
        }


@dataclass(frozen=True)
class ArchivedPdf:
    """The columns of an archived document the restitution copies (as `restituted_documents`
    rows have them)."""

    id: int
    sha256: str
    size: int
    created_at: datetime
    retention_until: date | None
    retention_basis: str | None


@dataclass(frozen=True)
class AcceptedCgv:
    id: int
    label: str
    published_at: datetime
    body_markdown: str
    pdf: ArchivedPdf | None
    """The PDF/A archived at publication; None for a version published before PDFs were
    archived (or whose PDF was purged): its text is restituted instead."""


def _archived_pdf(session: Session, document_id: int | None) -> ArchivedPdf | None:
    document = session.get(Document, document_id) if document_id is not None else None
    if document is None or document.purged_at is not None:
        return None
    return ArchivedPdf(
        document.id,
        document.sha256,
        document.size,
        document.created_at,
        document.retention_until,
        document.retention_basis,
    )


def acceptances(session: Session, client_id: int) -> tuple[list[dict[str, Any]], list[AcceptedCgv]]:
    """The client's CGV acceptance history, and each accepted version once, in order."""
    history: list[dict[str, Any]] = []
    versions: dict[int, AcceptedCgv] = {}
    for acc in acceptances_of(session, client_id):
        version = acc.cgv_version
        history.append(
            {
                "cgv_version": version.label,
                "cgv_effective_date": version.effective_date.isoformat(),
                "text_sha256": acc.text_sha256,
                "person_name": acc.person_name,
                "person_email": acc.person_email,
                "method": acc.method.value,
                "accepted_at": acc.accepted_at.isoformat(),
                "ip": acc.ip,
                "user_agent": acc.user_agent,
                "contract_version_id": acc.contract_version_id,
            }
        )
        if version.id not in versions:
            versions[version.id] = AcceptedCgv(
                version.id,
                version.label,
                version.published_at,
                version.body_markdown,
                _archived_pdf(session, version.document_id),
            )
    return history, list(versions.values())


def client_identity(session: Session, client_id: int) -> ClientIdentity:
    """The client as the manifest names it (`ClientNotFound` if there is none)."""
    client = get_client(session, client_id)
    return ClientIdentity(client.id, client.legal_name, client.siren, client.terminated_on)


@dataclass(frozen=True)
class ClientState:
    """What a restitution of the client shows, as of journal event `as_of`: `digest` covers
    its identity, its live documents (by id and content hash) and its CGV acceptances."""

    digest: str
    as_of: int


def client_state(session: Session, client_id: int) -> ClientState:
    """The client's state now (`ClientNotFound` if there is none)."""
    identity = client_identity(session, client_id)
    digest = hashlib.sha256(repr(identity).encode("utf-8"))
    documents = session.execute(
        select(Document.id, Document.sha256).where(
            Document.id.in_(_documents_stmt(client_id).with_only_columns(Document.id))
        )
    ).all()
    for document_id, sha256 in sorted(documents):
        digest.update(f"|d{document_id}:{sha256}".encode())
    for history_entry in acceptances(session, client_id)[0]:
        digest.update(json.dumps(history_entry, sort_keys=True).encode("utf-8"))
    as_of = session.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.client_id == client_id))
    return ClientState(digest.hexdigest(), as_of or 0)


def journal_changed_since(
    session: Session, client_id: int, as_of: int, restitution_id: int
) -> bool:
    """Whether the client's journal has an event after `as_of` other than restitution
    bookkeeping (producing, linking, downloading, reading an archive, and the deposit of
    archive `restitution_id` itself): such an event is in the excerpt a new archive would
    carry (a signer opening a link, a termination, a legal hold…)."""
    later = session.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.client_id == client_id,
            AuditEvent.id > as_of,
            AuditEvent.action.not_in(BOOKKEEPING_ACTIONS),
            AuditEvent.action.not_like("restitution.%"),
            ~(
                (AuditEvent.action == "document.deposited")
                & (AuditEvent.subject_id == str(restitution_id))
            ),
        )
        .limit(1)
    )
    return later is not None
