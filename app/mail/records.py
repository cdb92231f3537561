"""The outbox rows' single-transaction steps: insert (once per idempotency key), claim, record
the outcome, and the queries the sweep and the admins' page read. Take a session; never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Select, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.mail import Attachment, OutgoingMail, new_message_id
from app.mail.models import MailStatus, OutgoingMailAttachment, OutgoingMailRecord

MAX_ATTEMPTS = 9
"""The first attempt and the queue's 8 retries (app.queue.tasks.RETRIES); then "failed"."""

LOST_AFTER = timedelta(minutes=15)
"""A pending row untouched this long has lost its job, a sending row its worker: longer than
the queue's longest wait between two retries (640 s) and than an SMTP timeout (20 s)."""


def insert(session: Session, mail: OutgoingMail, *, now: datetime, key: str | None) -> int:
    """The row's id: a new pending row, or the one already inserted under `key`."""
    if key is not None:
        existing = _id_for_key(session, key)
        if existing is not None:
            return existing
    row = OutgoingMailRecord(
        message_id=mail.message_id or new_message_id(),
        idempotency_key=key,
        recipient=mail.to,
        subject=mail.subject,
        text=mail.text,
        status=MailStatus.PENDING,
        attempts=0,
        created_at=now,
        attachments=[
            OutgoingMailAttachment(
                position=n, filename=a.filename, media_type=a.media_type, data=a.data
            )
            for n, a in enumerate(mail.attachments)
        ],
    )
    if key is None:
        session.add(row)
        session.flush()
        return row.id
    try:
        # A concurrent caller with the same key: its row wins, the savepoint keeps ours out
        # without undoing the caller's own writes.
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        found = _id_for_key(session, key)
        if found is None:
            raise
        return found
    return row.id


def _id_for_key(session: Session, key: str) -> int | None:
    return session.scalar(
        select(OutgoingMailRecord.id).where(OutgoingMailRecord.idempotency_key == key)
    )


def claim(session: Session, mail_id: int, *, now: datetime) -> OutgoingMail | None:
    """Take the row for one attempt: the mail to send, or None when it is not to be sent
    (already sent, failed, or being sent by another job right now).

    One UPDATE with the condition in its WHERE: it takes the row's lock, so of two jobs at
    once the second waits, re-reads the row (now "sending") and updates nothing."""
    claimed = session.execute(
        update(OutgoingMailRecord)
        .where(
            OutgoingMailRecord.id == mail_id,
            or_(
                OutgoingMailRecord.status == MailStatus.PENDING,
                and_(
                    OutgoingMailRecord.status == MailStatus.SENDING,
                    OutgoingMailRecord.last_attempt_at < now - LOST_AFTER,
                ),
            ),
        )
        .values(
            status=MailStatus.SENDING,
            attempts=OutgoingMailRecord.attempts + 1,
            last_attempt_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    row = session.scalars(
        select(OutgoingMailRecord)
        .where(OutgoingMailRecord.id == mail_id)
        .options(selectinload(OutgoingMailRecord.attachments))
        .execution_options(populate_existing=True)
    ).one()
    return OutgoingMail(
        to=row.recipient,
        subject=row.subject,
        text=row.text,
        attachments=tuple(Attachment(a.filename, a.media_type, a.data) for a in row.attachments),
        message_id=row.message_id,
    )


def mark_sent(session: Session, mail_id: int, *, now: datetime) -> None:
    session.execute(
        update(OutgoingMailRecord)
        .where(OutgoingMailRecord.id == mail_id, OutgoingMailRecord.status == MailStatus.SENDING)
        .values(status=MailStatus.SENT, sent_at=now, last_error=None)
        .execution_options(synchronize_session=False)
    )


def record_failure(session: Session, mail_id: int, error: str) -> MailStatus:
    """Back to pending for the next retry, or failed after the last attempt; the new status."""
    row = session.get(OutgoingMailRecord, mail_id, with_for_update=True, populate_existing=True)
    if row is None or row.status is not MailStatus.SENDING:
        return row.status if row is not None else MailStatus.FAILED
    row.last_error = error[:2000]
    row.status = MailStatus.FAILED if row.attempts >= MAX_ATTEMPTS else MailStatus.PENDING
    return row.status


def lost(session: Session, *, now: datetime) -> list[int]:
    """Rows whose job was lost (a worker killed, a broker flushed, an enqueue that failed
    after the commit): pending and untouched, or sending for too long."""
    last_touched = func.coalesce(OutgoingMailRecord.last_attempt_at, OutgoingMailRecord.created_at)
    return list(
        session.scalars(
            select(OutgoingMailRecord.id)
            .where(
                OutgoingMailRecord.status.in_([MailStatus.PENDING, MailStatus.SENDING]),
                last_touched < now - LOST_AFTER,
            )
            .order_by(OutgoingMailRecord.id)
        )
    )


def failed(session: Session) -> Sequence[OutgoingMailRecord]:
    return session.scalars(
        select(OutgoingMailRecord)
        .where(OutgoingMailRecord.status == MailStatus.FAILED)
        .order_by(OutgoingMailRecord.created_at.desc(), OutgoingMailRecord.id.desc())
    ).all()


def reset_failed(session: Session, mail_id: int) -> bool:
    """A failed row pending again, with a fresh count of attempts; False if it was not failed."""
    reset = session.execute(
        update(OutgoingMailRecord)
        .where(OutgoingMailRecord.id == mail_id, OutgoingMailRecord.status == MailStatus.FAILED)
        .values(status=MailStatus.PENDING, attempts=0)
        .execution_options(synchronize_session=False)
    )
    return bool(reset.rowcount == 1)  # type: ignore[attr-defined]


def with_key_prefix(session: Session, prefix: str) -> Sequence[OutgoingMailRecord]:
    """The rows a caller named under `prefix` (its mails about one thing), oldest first."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return session.scalars(
        select(OutgoingMailRecord)
        .where(OutgoingMailRecord.idempotency_key.like(escaped + "%", escape="\\"))
        .order_by(OutgoingMailRecord.id)
    ).all()


def _sent_before(before: datetime) -> Select[tuple[int]]:
    return select(OutgoingMailRecord.id).where(
        OutgoingMailRecord.status == MailStatus.SENT, OutgoingMailRecord.sent_at < before
    )


def count_sent_before(session: Session, before: datetime) -> int:
    return session.scalar(select(func.count()).select_from(_sent_before(before).subquery())) or 0


def delete_sent_before(session: Session, before: datetime) -> int:
    """Delete the rows sent before `before`, their attachments with them (the foreign key
    cascades, on SQLite too: PRAGMA foreign_keys=ON). Pending, sending and failed rows stay:
    they are work to do, or the admins' to retry. Returns how many rows went."""
    result = cast(  # a DELETE's result is a cursor result (it has a rowcount)
        CursorResult[Any],
        session.execute(
            delete(OutgoingMailRecord)
            .where(OutgoingMailRecord.id.in_(_sent_before(before)))
            .execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount
