"""One attempt at delivering one outbox row: claim it, hand it to the mail server with no
transaction open, record the outcome.

Never twice, with one window. The claim (`records.claim`) lets one job at a time through, and
a sent row is never claimed again, so a retry, the sweep or two workers at once send nothing
more. The window: a worker that dies after the mail server has accepted the message and before
`mark_sent` has committed leaves the row "sending"; after `records.LOST_AFTER` the sweep
claims it again and the message goes out a second time. Both copies carry the Message-ID
stored with the row at insertion (`OutgoingMailRecord.message_id`), so mail servers and
clients that de-duplicate by Message-ID show it once, and the row's `sent_at` and
`message_id` say which message was the one recorded as sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from app.db import transaction
from app.mail import Mailer, MailError, records
from app.mail.models import MailStatus

log = logging.getLogger(__name__)


class MailNotDelivered(MailError):
    """This attempt failed and the row waits for the next one (the queue retries)."""


def deliver(
    factory: sessionmaker[Session],
    transport: Mailer,
    mail_id: int,
    *,
    clock: Callable[[], datetime],
) -> MailStatus | None:
    """Attempt the row once. Returns SENT, FAILED (the last attempt failed: not raised, a
    retry could not help), or None when there was nothing to do (sent already, taken by
    another job, unknown). Raises `MailNotDelivered` when the row waits for a retry."""
    with transaction(factory) as session:
        mail = records.claim(session, mail_id, now=clock())
    if mail is None:
        return None
    try:
        transport.send(mail)
    except (MailError, OSError) as exc:  # OSError: the outbox folder's disk, full or gone
        with transaction(factory) as session:
            status = records.record_failure(session, mail_id, str(exc))
        log.warning("mail %s to %s not sent (%s): %s", mail_id, mail.to, status.value, exc)
        if status is MailStatus.PENDING:
            raise MailNotDelivered(str(exc)) from exc
        return status
    with transaction(factory) as session:
        records.mark_sent(session, mail_id, now=clock())
    return MailStatus.SENT
