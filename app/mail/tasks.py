"""The mail jobs: `mail.deliver` (one attempt at one outbox row; a failure raises, and the
queue retries with backoff) and the periodic `mail.requeue` (re-enqueues rows whose job was
lost). No logic here: `app.mail.delivery` and `app.mail.records` hold it."""

from __future__ import annotations

from app.db import transaction, utcnow
from app.mail import delivery, records
from app.queue.context import runtime
from app.queue.tasks import Priority, job, periodic


# One-time codes and invitations: someone is waiting for them in their mailbox.
@job("mail.deliver", priority=Priority.IMMEDIATE)
def deliver_mail(mail_id: int) -> None:
    rt = runtime()
    delivery.deliver(rt.session_factory, rt.transport, mail_id, clock=utcnow)


@periodic("mail.requeue", minute="*/5")
def requeue_lost() -> None:
    rt = runtime()
    with transaction(rt.session_factory) as session:
        lost = records.lost(session, now=utcnow())
    for mail_id in lost:
        deliver_mail.enqueue(mail_id)
