"""The outbox's rows of sent mails are deleted by the daily purge once older than
`PARAPHE_RETENTION_SENT_MAIL_DAYS` (90 by default); mails still to send, or failed, stay, and
so does the audit journal. The purge runs at a fixed `now`; the rows are dated around it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select, update

from app.archive.jobs import run_purge
from app.audit.models import AuditEvent
from app.db import transaction
from app.mail import Attachment, OutgoingMail, records
from app.mail.models import MailStatus, OutgoingMailAttachment, OutgoingMailRecord
from tests.factories.db import runtime, session_of

NOW = datetime(2031, 6, 15, 2, 15, tzinfo=UTC)
MAIL = OutgoingMail(
    to="Élodie Martin <elodie@example.fr>",
    subject="Certificat de suppression",
    text="Bonjour,\nci-joint le certificat.\n",
    attachments=(Attachment("certificat.pdf", "application/pdf", b"%PDF-1.7 test"),),
)


def _mail(app: Flask, status: MailStatus, at: datetime) -> int:
    with transaction(runtime(app).session_factory) as session:
        mail_id = records.insert(session, MAIL, now=at, key=None)
        sent_at = at if status is MailStatus.SENT else None
        session.execute(
            update(OutgoingMailRecord)
            .where(OutgoingMailRecord.id == mail_id)
            .values(status=status, sent_at=sent_at, attempts=1)
        )
    return mail_id


def _left(app: Flask) -> tuple[set[int], int, int]:
    """The outbox rows left, their attachments, and the journal's entries."""
    with session_of(app) as session:
        rows = set(session.scalars(select(OutgoingMailRecord.id)))
        attachments = session.scalar(select(func.count()).select_from(OutgoingMailAttachment))
        journal = session.scalar(select(func.count()).select_from(AuditEvent))
    return rows, attachments or 0, journal or 0


def test_sent_mails_older_than_the_retention_are_purged_and_the_rest_stays(app: Flask) -> None:
    days = runtime(app).settings.retention.sent_mail_days
    assert days == 90
    old_sent = _mail(app, MailStatus.SENT, NOW - timedelta(days=days, seconds=1))
    recent_sent = _mail(app, MailStatus.SENT, NOW - timedelta(days=days) + timedelta(seconds=1))
    old_failed = _mail(app, MailStatus.FAILED, NOW - timedelta(days=400))
    old_pending = _mail(app, MailStatus.PENDING, NOW - timedelta(days=400))
    rows, attachments, journal = _left(app)
    assert attachments == 4

    dry = run_purge(runtime(app), today=NOW.date(), now=NOW, dry_run=True)
    assert dry.mails_deleted == 1
    assert _left(app) == (rows, attachments, journal)  # a dry run changes nothing

    report = run_purge(runtime(app), today=NOW.date(), now=NOW, dry_run=False)

    assert report.mails_deleted == 1
    assert old_sent in rows
    assert _left(app) == ({recent_sent, old_failed, old_pending}, 3, journal + 1)
    with session_of(app) as session:
        entry = session.scalars(select(AuditEvent).where(AuditEvent.action == "mail.purged")).one()
    assert entry.actor == "job:purge"
    assert json.loads(entry.details) == {
        "rows": 1,
        "sent_before": (NOW - timedelta(days=days)).isoformat(),
    }

    again = run_purge(runtime(app), today=NOW.date(), now=NOW, dry_run=False)
    assert again.mails_deleted == 0
    assert _left(app)[2] == journal + 1  # nothing purged: nothing journaled
