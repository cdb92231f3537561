"""Archived documents as HTTP responses: every route that serves a document's bytes goes
through here, so every one of them checks integrity and journals the same way.

`services.read_content` / `services.open_content` verify the SHA-256 and journal the read, or
journal the failure and raise `DocumentIntegrityFailed`. A route must then commit that journal
entry before the refusal is answered (the error handler rolls the session back): these helpers
do it, and `app.errors` turns the exception into a 503 (problem+json under /api/, the French
error page elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from flask import Response
from sqlalchemy.orm import Session

from app.db import utcnow
from app.documents import services
from app.documents.errors import DocumentIntegrityFailed
from app.documents.models import Document
from storage import BlobStore

_CHUNK = 1 << 20


def checked_bytes(
    db: Session, store: BlobStore, document: Document, *, actor: str, journal_read: bool = True
) -> bytes:
    """The document's verified bytes; the read (unless `journal_read` is False) or the failed
    check is journaled and committed."""
    try:
        data = services.read_content(
            db, store, document, actor=actor, now=utcnow(), journal_read=journal_read
        )
    except DocumentIntegrityFailed:
        db.commit()  # the failed check is journaled before the refusal is answered
        raise
    if journal_read:
        db.commit()  # the read is journaled
    return data


def document_response(
    db: Session,
    store: BlobStore,
    document: Document,
    *,
    actor: str,
    download: bool,
    cache_control: str | None = "private, no-store",
    journal_read: bool = True,
) -> Response:
    """The document's verified bytes as a response (inline or as an attachment)."""
    data = checked_bytes(db, store, document, actor=actor, journal_read=journal_read)
    response = Response(data, mimetype=document.media_type)
    disposition = "attachment" if download else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{document.filename}"'
    response.headers["ETag"] = f'"{document.sha256}"'
    if cache_control is not None:
        response.headers["Cache-Control"] = cache_control
    return response


def open_checked(
    db: Session,
    store: BlobStore,
    document: Document,
    *,
    actor: str,
    part: tuple[int, int] | None = None,
) -> BinaryIO:
    """The document (or `part` of it: start, length) opened for streaming, verified whole
    first (a damaged blob is a 503, not a truncated download); the read (or the failed check)
    is journaled and committed."""
    try:
        source = services.open_content(db, store, document, actor=actor, now=utcnow(), part=part)
    except DocumentIntegrityFailed:
        db.commit()  # the failed check is journaled before the refusal is answered
        raise
    db.commit()  # the read is journaled
    return source


def stream_response(document: Document, source: BinaryIO) -> Response:
    """A download read in chunks from `source` (from `open_checked`), verified again as it
    streams."""

    def chunks() -> Iterator[bytes]:
        while chunk := source.read(_CHUNK):
            yield chunk

    response = Response(
        chunks(),
        mimetype=document.media_type,
        headers={
            "Content-Length": str(document.size),
            "Content-Disposition": f'attachment; filename="{document.filename}"',
            "ETag": f'"{document.sha256}"',
            "Cache-Control": "private, no-store",
        },
    )
    # Closed when the response is (the server calls close() on it), also when the body is
    # never read: a 304, a HEAD, a client gone before the first chunk.
    response.call_on_close(source.close)
    return response
