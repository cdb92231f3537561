"""Rows aged past a sweep's patience, as the sweeps find them once the job that was to handle
them was lost (a worker killed, a broker emptied): the tests then run the sweep."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute

from app.db import transaction, utcnow
from app.job_runs import runs
from app.job_runs.models import JobRun
from tests.factories import runtime
from tests.factories.db import session_of


def aged_past(
    app: Flask,
    column: InstrumentedAttribute[Any],
    row_id: int,
    patience: timedelta,
    *,
    since: datetime | None = None,
) -> None:
    """`column` of the row `row_id` set one second further back than `patience` before
    `since` (now by default): the first instant at which a sweep takes its job for lost."""
    model = column.class_
    with transaction(runtime(app).session_factory) as session:
        session.execute(
            update(model)
            .where(model.id == row_id)
            .values({column: (since or utcnow()) - patience - timedelta(seconds=1)})
        )


def runs_named(app: Flask, name: str) -> list[JobRun]:
    """The recorded runs of the job `name`, oldest first (detached: read their columns)."""
    with session_of(app) as session:
        return list(session.scalars(select(JobRun).where(JobRun.name == name).order_by(JobRun.id)))


def failed_once(app: Flask, task: runs.TaskRef, error: str) -> None:
    """`task`'s first attempt failed and the queue retries it in 40 s, recorded as Huey's
    signals record it: a job under way, which a sweep must leave alone."""
    now = utcnow()
    with transaction(runtime(app).session_factory) as session:
        runs.started(session, task, now)
        runs.failed(session, task, now, error=error, retry_in=timedelta(seconds=40))
