"""Every mail goes through the outbox (`outgoing_mails`) and the job `mail.deliver`: delivered
once to a real SMTP server, retried while the server is down, never twice, once per
idempotency key. Inline queue (the job runs where it is enqueued), except where a real
`paraphe worker` is said."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.config import Settings
from app.db import transaction, utcnow
from app.mail import Attachment, OutgoingMail, delivery, records
from app.mail.delivery import MailNotDelivered
from app.mail.models import MailStatus, OutgoingMailRecord
from app.mail.outbox import enqueue_mail, failed_mails, retry_mail
from app.mail.tasks import deliver_mail, requeue_lost
from app.wiring import runtime
from tests.factories.db import runtime as runtime_of
from tests.factories.db import session_of
from tests.integration.smtp_server import Inbox, smtp_server
from tests.integration.worker_process import (
    queued_settings,
    running_worker,
    wait_until,
)
from tests.together import at_once

MAIL = OutgoingMail(
    to="Élodie Martin <elodie@example.fr>",
    subject="Votre code « Paraphe »",
    text="Bonjour Élodie,\nvotre code : 123456\n",
    attachments=(Attachment("certificat.pdf", "application/pdf", b"%PDF-1.7 test"),),
)


def _rows(app: Flask) -> list[OutgoingMailRecord]:
    with session_of(app) as session:
        return list(session.scalars(select(OutgoingMailRecord).order_by(OutgoingMailRecord.id)))


def _send(app: Flask, mail: OutgoingMail = MAIL) -> int:
    with app.app_context():
        runtime().mailer.send(mail)
    return _rows(app)[-1].id


def test_a_mail_is_delivered_once_with_its_stable_message_id(smtp_app: Flask, inbox: Inbox) -> None:
    mail_id = _send(smtp_app)

    [row] = _rows(smtp_app)
    assert row.status is MailStatus.SENT and row.sent_at is not None and row.attempts == 1
    [message] = inbox.messages
    assert message["Message-ID"] == row.message_id
    assert [p.get_filename() for p in message.iter_attachments()] == ["certificat.pdf"]

    # The job again (a retry after a crash, the sweep, a second worker): nothing more is sent.
    with smtp_app.app_context():
        deliver_mail.run(mail_id)
        requeue_lost.run()
    assert len(inbox.messages) == 1


def test_a_worker_killed_after_the_smtp_server_accepted_resends_with_the_same_message_id(
    smtp_app: Flask, inbox: Inbox
) -> None:
    """The one double-send window (`app.mail.delivery`): the server accepted the message, and
    the worker died before `mark_sent` committed. The row stays "sending" until the periodic
    requeue finds it lost and sends it again: at least once, both copies with the row's
    Message-ID, which receivers de-duplicate by."""
    rt = runtime_of(smtp_app)
    long_ago = utcnow() - records.LOST_AFTER - timedelta(minutes=1)
    with transaction(rt.session_factory) as session:
        mail_id = records.insert(session, MAIL, now=long_ago, key=None)
    # What the killed worker did: claimed the row, then the real SMTP server accepted it.
    with transaction(rt.session_factory) as session:
        claimed = records.claim(session, mail_id, now=long_ago)
    assert claimed is not None
    rt.transport.send(claimed)
    assert len(inbox.messages) == 1

    with smtp_app.app_context():
        requeue_lost.run()

    [row] = _rows(smtp_app)
    assert row.status is MailStatus.SENT and row.attempts == 2
    assert [m["Message-ID"] for m in inbox.messages] == [row.message_id, row.message_id]


def test_smtp_down_the_mail_waits_then_is_delivered_once_when_it_is_back(
    smtp_app: Flask, smtp_port: int
) -> None:
    mail_id = _send(smtp_app)  # nobody listens on the port

    [row] = _rows(smtp_app)
    assert row.status is MailStatus.PENDING and row.attempts == 1
    assert row.last_error is not None and f"127.0.0.1:{smtp_port}" in row.last_error
    with smtp_app.app_context(), pytest.raises(MailNotDelivered):
        deliver_mail.run(mail_id)  # still down: raised, so the queue retries with backoff
    assert _rows(smtp_app)[0].attempts == 2

    with smtp_server(smtp_port, Inbox()) as inbox, smtp_app.app_context():
        deliver_mail.run(mail_id)  # the queue's next retry
        deliver_mail.run(mail_id)  # and one more, as if two were scheduled
    [row] = _rows(smtp_app)
    assert row.status is MailStatus.SENT and row.attempts == 3
    assert [m["Message-ID"] for m in inbox.messages] == [row.message_id]


def test_after_the_last_attempt_the_mail_is_failed_listed_and_can_be_retried(
    smtp_app: Flask, smtp_port: int
) -> None:
    mail_id = _send(smtp_app)
    with smtp_app.app_context():
        for _ in range(records.MAX_ATTEMPTS - 2):
            with pytest.raises(MailNotDelivered):
                deliver_mail.run(mail_id)
        deliver_mail.run(mail_id)  # the last one: recorded as failed, not raised
        deliver_mail.run(mail_id)  # a failed mail is not attempted again by the queue
    with session_of(smtp_app) as session:
        [failed] = failed_mails(session)
        assert failed.id == mail_id and failed.attempts == records.MAX_ATTEMPTS
        assert failed.last_error

    with smtp_server(smtp_port, Inbox()) as inbox:
        with transaction(runtime_of(smtp_app).session_factory) as session:
            assert retry_mail(session, mail_id)  # delivered once this commits
        with transaction(runtime_of(smtp_app).session_factory) as session:
            assert not retry_mail(session, mail_id)  # sent: nothing to retry
    assert len(inbox.messages) == 1
    with session_of(smtp_app) as session:
        assert failed_mails(session) == []


def test_an_idempotency_key_inserts_and_sends_once(smtp_app: Flask, inbox: Inbox) -> None:
    factory = runtime_of(smtp_app).session_factory
    ids = []
    for _ in range(2):  # a workflow run twice
        with transaction(factory) as session:
            ids.append(enqueue_mail(session, MAIL, now=utcnow(), key="signatures.completed:7"))
    assert ids[0] == ids[1]
    assert len(_rows(smtp_app)) == 1 and len(inbox.messages) == 1


def test_a_rolled_back_transaction_sends_nothing(smtp_app: Flask, inbox: Inbox) -> None:
    factory = runtime_of(smtp_app).session_factory
    with pytest.raises(RuntimeError), transaction(factory) as session:
        enqueue_mail(session, MAIL, now=utcnow())
        raise RuntimeError("the workflow failed after deciding to mail")
    assert _rows(smtp_app) == [] and inbox.messages == []


def test_a_mail_whose_job_or_worker_was_lost_is_found_by_the_periodic_requeue(
    smtp_app: Flask, inbox: Inbox
) -> None:
    factory = runtime_of(smtp_app).session_factory
    long_ago = utcnow() - records.LOST_AFTER - timedelta(minutes=1)
    with transaction(factory) as session:  # rows, and no job (a broker flushed)
        lost_id = records.insert(session, MAIL, now=long_ago, key=None)
        recent_id = records.insert(session, MAIL, now=utcnow(), key=None)
        # A worker killed while sending: the row stayed "sending".
        killed_id = records.insert(session, MAIL, now=long_ago, key=None)
        session.execute(
            update(OutgoingMailRecord)
            .where(OutgoingMailRecord.id == killed_id)
            .values(status=MailStatus.SENDING, attempts=1, last_attempt_at=long_ago)
        )
        busy_id = records.insert(session, MAIL, now=long_ago, key=None)
        session.execute(  # being sent right now by a live worker: left alone
            update(OutgoingMailRecord)
            .where(OutgoingMailRecord.id == busy_id)
            .values(status=MailStatus.SENDING, attempts=1, last_attempt_at=utcnow())
        )
    with smtp_app.app_context():
        requeue_lost.run()
        requeue_lost.run()  # twice (two schedulers by mistake): nothing more is sent
    statuses = {row.id: row.status for row in _rows(smtp_app)}
    assert statuses == {
        lost_id: MailStatus.SENT,
        recent_id: MailStatus.PENDING,
        killed_id: MailStatus.SENT,
        busy_id: MailStatus.SENDING,
    }
    assert len(inbox.messages) == 2


@pytest.mark.committed_db  # threads on their own connections
def test_one_idempotency_key_from_ten_concurrent_transactions_is_one_row(
    smtp_app: Flask, inbox: Inbox
) -> None:
    factory = runtime_of(smtp_app).session_factory

    def insert() -> int:
        with transaction(factory) as session:
            return enqueue_mail(session, MAIL, now=utcnow(), key="invoices.reminder:3")

    ids = at_once(insert, times=10)
    assert len(set(ids)) == 1 and len(ids) == 10
    assert len(_rows(smtp_app)) == 1 and len(inbox.messages) == 1


@pytest.mark.committed_db  # threads on their own connections
def test_twenty_concurrent_deliveries_of_one_row_send_one_message(
    smtp_app: Flask, inbox: Inbox
) -> None:
    rt = runtime_of(smtp_app)
    with transaction(rt.session_factory) as session:
        mail_id = records.insert(session, MAIL, now=utcnow(), key=None)
    outcomes = at_once(
        lambda: delivery.deliver(rt.session_factory, rt.transport, mail_id, clock=utcnow)
    )
    assert outcomes.count(MailStatus.SENT) == 1 and outcomes.count(None) == 19
    assert len(inbox.messages) == 1
    [row] = _rows(smtp_app)
    assert row.status is MailStatus.SENT and row.attempts == 1


@pytest.mark.committed_db  # the worker process reads what the test committed
@pytest.mark.real_clock  # and runs on the real clock (.ci/timetravel moves only this process's)
def test_a_worker_picks_a_mail_up_within_a_second(
    settings: Settings,
    make_app: Callable[[Settings], Flask],
    smtp_port: int,
    inbox: Inbox,
    tmp_path: Path,
) -> None:
    queued = replace(
        queued_settings("sqlite", settings, tmp_path), smtp_url=f"smtp://127.0.0.1:{smtp_port}"
    )
    app = make_app(queued)
    with running_worker(queued, workers=1):
        _send(app)
        # the worker has started
        wait_until(lambda: len(inbox.messages) == 1, queued, seconds=60, poll=0.02)
        time.sleep(3)  # idle: its polling has backed off as far as it goes
        started = time.monotonic()
        _send(app, replace(MAIL, subject="Votre code à usage unique"))
        wait_until(lambda: len(inbox.messages) == 2, queued, seconds=10, poll=0.02)
        # Picked up within 0.5 s (app.worker.MAX_POLL_DELAY_S), then sent: under a second,
        # with some margin for a loaded machine (Huey's default would wait up to 10 s).
        assert time.monotonic() - started < 1.5
    assert [row.status for row in _rows(app)] == [MailStatus.SENT, MailStatus.SENT]
