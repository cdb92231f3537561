"""Finding archived documents: the API's pages (keyset on the sort column), one document's
metadata, its journal events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, or_, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.documents.errors import DocumentNotFound
from app.documents.models import Document, DocumentKind
from app.messages import msg


def document_metadata(session: Session, document_id: int) -> Row[Any]:
    """One document's metadata as a plain row of `LIST_COLUMNS`: what the API's metadata read
    serialises, without building and tracking an ORM object (a third of that request's
    server time, py-spy under bench/api.py)."""
    row = session.execute(select(*LIST_COLUMNS).where(Document.id == document_id)).first()
    if row is None:
        raise DocumentNotFound(
            msg("Document n° {document_id} introuvable.", document_id=document_id)
        )
    return row


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
            raise DocumentNotFound(
                msg("Curseur inconnu : aucun document n° {cursor}.", cursor=cursor)
            )
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
