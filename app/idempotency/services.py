"""Claiming an idempotency key, recording the answer, purging old keys. No HTTP here: the
route decorator (`app.idempotency.guard`) calls these, each in its own short transaction."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.idempotency.models import IdempotencyKey

KEY_LIFETIME = timedelta(hours=24)
"""A key is honoured for 24 h; after that the same key is a new request (and purged)."""

ABANDONED_AFTER = timedelta(minutes=10)
"""A claim still unanswered after this long belongs to a request that died (process killed):
the next request with the key takes it over instead of waiting 24 h."""


def request_hash(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))  # no two requests hash alike by shifting
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True)
class Stored:
    """What the key already holds: the request it was first used for, and its answer (status
    None while that request is still being answered)."""

    request_hash: str
    status: int | None
    body: str | None
    location: str | None


def claim(
    session: Session, token_id: int, key: str, digest: str, *, now: datetime
) -> Stored | None:
    """Claim the key for this request (None: go ahead, and `record` or `release` it), or
    return what the key holds. The unique (token, key) makes one of concurrent claims win;
    the session is committed here, so that the claim is visible to the others at once."""
    row = _current(session, token_id, key, now)
    if row is None:
        session.add(IdempotencyKey(token_id=token_id, key=key, request_hash=digest, created_at=now))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            row = _current(session, token_id, key, now)
            if row is None:  # the winner released it meanwhile (its request was refused)
                return claim(session, token_id, key, digest, now=now)
        else:
            return None
    stored = Stored(row.request_hash, row.status, row.response_body, row.location)
    session.commit()
    return stored


def _current(session: Session, token_id: int, key: str, now: datetime) -> IdempotencyKey | None:
    """The key's row if it still counts; an expired or abandoned one is deleted first."""
    row = session.scalars(
        select(IdempotencyKey).where(IdempotencyKey.token_id == token_id, IdempotencyKey.key == key)
    ).one_or_none()
    if row is None:
        return None
    expired = row.created_at < now - KEY_LIFETIME
    abandoned = row.status is None and row.created_at < now - ABANDONED_AFTER
    if expired or abandoned:
        session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.id == row.id, IdempotencyKey.created_at == row.created_at
            )
        )
        session.commit()
        return None
    return row


def record(
    session: Session,
    token_id: int,
    key: str,
    *,
    status: int,
    body: str,
    location: str | None,
) -> None:
    """The claimed request succeeded: its answer is what every repetition gets."""
    row = session.scalars(
        select(IdempotencyKey).where(IdempotencyKey.token_id == token_id, IdempotencyKey.key == key)
    ).one()
    row.status, row.response_body, row.location = status, body, location
    session.commit()


def release(session: Session, token_id: int, key: str) -> None:
    """The claimed request was refused or failed, having written nothing: the key is free
    again, so that the corrected (or retried) request can use it."""
    session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.token_id == token_id,
            IdempotencyKey.key == key,
            IdempotencyKey.status.is_(None),
        )
    )
    session.commit()


def purge(session: Session, *, now: datetime) -> int:
    """Delete the keys older than their lifetime; returns how many."""
    result = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < now - KEY_LIFETIME)
    )
    return int(getattr(result, "rowcount", 0) or 0)
