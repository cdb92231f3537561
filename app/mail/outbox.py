"""Every outgoing mail goes through the outbox: a row in `outgoing_mails`, then the job
`mail.deliver` once the row is committed. Retried with backoff, never lost (the row stays
until it is sent; `mail.requeue` finds a row whose job was lost), sent once (the delivery
claims the row, see `app.mail.delivery` for the one window).

Two ways in:
- `enqueue_mail(session, mail, now=…, key=…)` inside a workflow's own transaction: the mail
  exists if and only if what it announces was committed, and a workflow run twice passes the
  same `key` and inserts once;
- `QueuedMailer.send(mail)`, the application's `Mailer`, for callers that send after their
  commit: the row in a short transaction of its own.

The job is enqueued from the session's `after_commit` hook: never for a rolled-back row. In
inline mode (the tests, one-off commands) it runs there and then, the same path."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from app.db import transaction, utcnow
from app.mail import OutgoingMail, records
from app.mail.models import OutgoingMailRecord
from app.mail.tasks import deliver_mail

log = logging.getLogger(__name__)

_TO_DISPATCH = "app.mail.outbox.to_dispatch"
_DUE = "app.mail.outbox.due"


def enqueue_mail(
    session: Session, mail: OutgoingMail, *, now: datetime, key: str | None = None
) -> int:
    """Insert the mail in the caller's transaction (once per `key`); its delivery is enqueued
    when that transaction commits. The row's id."""
    mail_id = records.insert(session, mail, now=now, key=key)
    _dispatch_after_commit(session, mail_id)
    return mail_id


def message_id_of(session: Session, mail_id: int) -> str:
    """The Message-ID the mail carries on every attempt (fixed at insertion): what a journal
    records as the proof of sending."""
    row = session.get(OutgoingMailRecord, mail_id)
    assert row is not None
    return row.message_id


def mails_keyed(session: Session, prefix: str) -> Sequence[OutgoingMailRecord]:
    """The mails enqueued with a key starting with `prefix` (a document's deliveries), with
    their status: a page shows which were sent and which failed."""
    return records.with_key_prefix(session, prefix)


def failed_mails(session: Session) -> Sequence[OutgoingMailRecord]:
    """Mails every attempt of which failed, newest first (the admins' page lists them: the
    recipient, the subject, `attempts`, `last_error`)."""
    return records.failed(session)


def purge_sent_mails(session: Session, *, before: datetime, dry_run: bool = False) -> int:
    """The rows of mails sent before `before`, deleted (or counted, `dry_run`): the retention
    purge's step for the outbox. The audit journal is not touched: the entries the workflows
    wrote when they decided to send (an invitation, a notice, a certificate) stay the proof,
    and the purge journals how many rows went and up to when."""
    if dry_run:
        return records.count_sent_before(session, before)
    return records.delete_sent_before(session, before)


def retry_mail(session: Session, mail_id: int) -> bool:
    """Give a failed mail a new round of attempts, enqueued when the caller commits. False
    when the mail is not (or no longer) failed."""
    if not records.reset_failed(session, mail_id):
        return False
    _dispatch_after_commit(session, mail_id)
    return True


class QueuedMailer:
    """The application's `Mailer`: each mail a row committed at once, then its job."""

    def __init__(self, sessions: Callable[[], sessionmaker[Session]]) -> None:
        # Read at each send: the tests point the runtime at their own session factory.
        self._sessions = sessions

    def send(self, mail: OutgoingMail) -> None:
        with transaction(self._sessions()) as session:
            enqueue_mail(session, mail, now=utcnow())


def _dispatch_after_commit(session: Session, mail_id: int) -> None:
    pending: list[int] | None = session.info.get(_TO_DISPATCH)
    if pending is None:
        pending = session.info[_TO_DISPATCH] = []
        event.listen(session, "after_commit", _committed)
        event.listen(session, "after_rollback", _forget)
        event.listen(session, "after_transaction_end", _dispatch)
    pending.append(mail_id)


def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the rows are not committed yet
    pending: list[int] = session.info.get(_TO_DISPATCH, [])
    due: list[int] = session.info.setdefault(_DUE, [])
    due.extend(pending)
    pending.clear()


def _dispatch(session: Session, transaction: SessionTransaction) -> None:
    # After the commit's connection went back to the pool: inline, the delivery job opens its
    # own, and many threads committing at once must not each hold two.
    if transaction.parent is not None:
        return
    due: list[int] = session.info.get(_DUE, [])
    ids, due[:] = list(due), []
    for mail_id in ids:
        try:
            deliver_mail.enqueue(mail_id)
        except Exception:  # the broker is down: the row is committed, mail.requeue finds it
            log.exception("delivery of mail %s not enqueued", mail_id)


def _forget(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.get(_TO_DISPATCH, []).clear()
