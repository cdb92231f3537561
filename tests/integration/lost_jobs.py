"""Rows aged past a sweep's patience, as the sweeps find them once the job that was to handle
them was lost (a worker killed, a broker emptied): the tests then run the sweep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute

from app.db import transaction, utcnow
from app.job_runs import runs
from app.job_runs.models import JobRun, RunStatus
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


def sweep_waits_for_the_retry_then_takes_over(
    app: Flask, sweep: Callable[[], object], task: runs.TaskRef, subject_status: Callable[[], Enum]
) -> tuple[Enum, Enum]:
    """What every sweep owes a job whose first attempt failed (`failed_once`): while its retry
    is due, no second job chases its subject; once the retry is overdue past
    `runs.LOST_AFTER` (the broker lost it), the sweep takes over: the lost run leaves the
    admins' page (relaunched) and a new run of the same job completes. One scenario for every
    sweep, so that the contracts' and the signatures' cannot drift. Returns the subject's
    status after each sweep (still waiting, then done), for the test to name them."""
    sweep()

    [retrying] = runs_named(app, task.name)  # no second job chasing the subject
    assert retrying.status is RunStatus.RETRYING and retrying.attempts == 1
    while_retrying = subject_status()

    # Its retry was due long ago and never ran (the broker lost it): the sweep takes over.
    aged_past(app, JobRun.next_attempt_at, retrying.id, runs.LOST_AFTER)
    sweep()

    lost, taken_over = runs_named(app, task.name)
    assert lost.status is RunStatus.RELAUNCHED  # off the admins' page
    assert taken_over.status is RunStatus.COMPLETE and taken_over.args == task.args
    return while_retrying, subject_status()
