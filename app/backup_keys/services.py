"""The keys' rows (id, purpose, client, destruction; never the bytes) kept in step with the
keyring file, and the destruction of a client's key when the purge has deleted the last of its
documents that the key protects."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.audit import services as audit
from app.backup_keys import keyring
from app.backup_keys.models import BackupKey, KeyPurpose
from app.config import Settings
from app.documents.models import Document, DocumentKind

PLATFORM_KEY = "plateforme"
LEGAL_KINDS = (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE)
# The vendor's own proof that it deleted: under the platform key, outliving the client's key.
PLATFORM_KINDS = (DocumentKind.DELETION_CERTIFICATE,)


def keyring_file(settings: Settings) -> Path:
    return settings.backup.keyring_path or settings.instance_dir / "backup-keyring.json"


def client_key(client_id: int) -> str:
    return f"client-{client_id}"


def legal_key(year: int) -> str:
    """Invoices whose retention ends in `year` share a key, destroyed once that year is over."""
    return f"legal-{year}"


def register_keys(session: Session, key_ids: set[str], now: datetime) -> None:
    """A row per key (its id, purpose, client; never its bytes)."""
    known = set(session.scalars(select(BackupKey.key_id).where(BackupKey.key_id.in_(key_ids))))
    for key_id in sorted(key_ids - known):
        purpose, client_id = KeyPurpose.PLATFORM, None
        if key_id.startswith("client-"):
            purpose, client_id = KeyPurpose.CLIENT, int(key_id.removeprefix("client-"))
        elif key_id.startswith("legal-"):
            purpose = KeyPurpose.LEGAL
        session.add(BackupKey(key_id=key_id, purpose=purpose, client_id=client_id, created_at=now))


def client_key_spent(session: Session, client_id: int) -> bool:
    """Whether none of the client's documents the client key protects is kept any more (the
    documents the law keeps are under a legal key, so they do not count)."""
    return not session.scalar(
        select(
            exists().where(
                Document.client_id == client_id,
                Document.purged_at.is_(None),
                Document.kind.not_in(LEGAL_KINDS + PLATFORM_KINDS),
            )
        )
    )


def spent_legal_years(session: Session, today: date) -> list[int]:
    """The years of the legal keys still alive whose documents are all gone: the year is over
    (every retention ending in it has ended) and no invoice or credit note of it is kept."""
    years: list[int] = []
    for key_id in session.scalars(
        select(BackupKey.key_id).where(
            BackupKey.purpose == KeyPurpose.LEGAL, BackupKey.destroyed_at.is_(None)
        )
    ):
        year = int(key_id.removeprefix("legal-"))
        if year >= today.year:
            continue
        kept = session.scalar(
            select(
                exists().where(
                    Document.kind.in_(LEGAL_KINDS),
                    Document.purged_at.is_(None),
                    Document.retention_until >= date(year, 1, 1),
                    Document.retention_until <= date(year, 12, 31),
                )
            )
        )
        if not kept:
            years.append(year)
    return sorted(years)


def destroy_key(
    session: Session,
    path: Path,
    key_id: str,
    *,
    client_id: int | None,
    now: datetime,
    reason: str,
    actor: str,
) -> bool:
    """Destroy the key in the keyring (its bytes gone, a tombstone left), mark its row and
    journal why. The file goes first, as the purge deletes a blob before its row: if the
    transaction then fails, the rerun finds the key already destroyed and completes the rows.
    Returns False when the row was already marked."""
    keyring.destroy(path, key_id, now=now, reason=reason)
    row = session.get(BackupKey, key_id)
    if row is None:
        purpose = KeyPurpose.CLIENT if client_id is not None else KeyPurpose.LEGAL
        row = BackupKey(key_id=key_id, purpose=purpose, client_id=client_id, created_at=now)
        session.add(row)
    elif row.destroyed_at is not None:
        return False
    row.destroyed_at, row.destroyed_reason = now, reason[:300]
    audit.record(
        session,
        now=now,
        actor=actor,
        action="backup.key_destroyed",
        subject_type="backup_key",
        subject_id=key_id,
        client_id=client_id,
        details={"key": key_id, "reason": reason},
    )
    return True
