"""What `paraphe storage migrate` needs from the database: the lock each blob must carry in
its new store, from the documents that name it (a blob archived before the stores knew
locks has none in its old store, but its rows know its retention and holds)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.documents import retention as rules
from app.documents.models import Document
from storage import BlobLock
from storage.migration import merge


def locks_from_documents(session: Session) -> dict[str, BlobLock]:
    """{blob key: the strongest lock its live documents call for} (keys without any omitted)."""
    locks: dict[str, BlobLock] = {}
    rows = session.execute(
        select(Document.sha256, Document.retention_until, Document.legal_hold).where(
            Document.purged_at.is_(None)
        )
    )
    for sha256, retention_until, legal_hold in rows:
        if retention_until is None and not legal_hold:
            continue
        lock = BlobLock(
            retain_until=rules.lock_end(retention_until) if retention_until else None,
            legal_hold=bool(legal_hold),
        )
        locks[sha256] = merge(locks[sha256], lock) if sha256 in locks else lock
    return locks
