"""The former cron lines are periodic jobs (issue 14): each runs on its schedule and calls the
function its operator command calls, so running it twice does the work once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask

from app.archive import tasks as archive_tasks
from app.audit import tasks as audit_tasks
from app.audit.models import AuditEvent
from app.audit.sealing import SEALED
from app.invoices import tasks as invoice_tasks
from app.queue.tasks import Job
from tests.factories.audit import record_reads
from tests.factories.db import count
from tests.integration.helpers import outbox_messages


@pytest.mark.parametrize(
    ("job", "due", "not_due"),
    [
        (audit_tasks.anchor, (14, 0), (14, 30)),
        (invoice_tasks.remind, (7, 0), (8, 0)),
        (invoice_tasks.produce_missing, (9, 30), (9, 0)),
        (invoice_tasks.resume_runs, (9, 5), (9, 7)),
        (archive_tasks.purge, (2, 15), (3, 15)),
    ],
)
def test_each_former_cron_line_has_its_schedule(
    job: Job[[]], due: tuple[int, int], not_due: tuple[int, int]
) -> None:
    task = job._wrapper.task_class()
    assert task.validate_datetime(_utc(*due)) and not task.validate_datetime(_utc(*not_due))


def _utc(hour: int, minute: int) -> datetime:
    # Huey's scheduler (utc=True) checks naive datetimes that are UTC.
    return datetime(2026, 12, 5, hour, minute, tzinfo=UTC).replace(tzinfo=None)


def _sealed_anchors(app: Flask) -> int:
    return count(app, AuditEvent, AuditEvent.action == SEALED)


def test_the_hourly_anchor_seals_the_head_once_per_change(app: Flask) -> None:
    record_reads(app, 2)
    with app.app_context():
        audit_tasks.anchor.run()
        audit_tasks.anchor.run()  # nothing new since: nothing sealed
    assert _sealed_anchors(app) == 1
    cli = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert cli.exit_code == 0 and "Ancres scellées valides : 1" in cli.output


def test_the_daily_purge_and_reminders_run_clean_with_nothing_due(app: Flask) -> None:
    events = count(app, AuditEvent)
    with app.app_context():
        archive_tasks.purge.run()
        invoice_tasks.remind.run()
    assert outbox_messages(app.extensions["paraphe"].settings.outbox_dir) == []
    assert count(app, AuditEvent) == events  # nothing deleted, certified or reminded
