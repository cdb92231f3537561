"""The `job_runs` rows: written from Huey's signals (`recording`), read by the admins' page,
claimed by a relaunch, pruned when they went well. Single-transaction services: the caller
passes the session and `now`, and commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.job_runs.models import NEEDS_ATTENTION, JobRun, RunStatus

KEEP_COMPLETED = timedelta(days=1)


@dataclass(frozen=True)
class TaskRef:
    """What a signal says of a Huey task: its id, its job's name, its arguments."""

    task_id: str
    name: str
    args: list[Any]
    kwargs: dict[str, Any]


def _run(session: Session, task: TaskRef, now: datetime) -> JobRun:
    """The task's row, created at its first sight (a retry finds the same row)."""
    run = session.scalar(select(JobRun).where(JobRun.task_id == task.task_id).with_for_update())
    if run is None:
        run = JobRun(
            task_id=task.task_id,
            name=task.name,
            args=task.args,
            kwargs=task.kwargs,
            status=RunStatus.RUNNING,
            attempts=0,
            started_at=now,
            updated_at=now,
        )
        session.add(run)
    return run


def started(session: Session, task: TaskRef, now: datetime) -> None:
    run = _run(session, task, now)
    run.status = RunStatus.RUNNING
    run.attempts += 1
    run.next_attempt_at = None
    run.updated_at = now


def completed(session: Session, task: TaskRef, now: datetime) -> None:
    run = _run(session, task, now)
    run.status = RunStatus.COMPLETE
    run.updated_at = run.finished_at = now


def failed(
    session: Session,
    task: TaskRef,
    now: datetime,
    *,
    error: str,
    retry_in: timedelta | None,
) -> None:
    """A failed attempt: to be retried `retry_in` from now, or final (None)."""
    run = _run(session, task, now)
    run.last_error = error
    run.updated_at = now
    if retry_in is None:
        run.status = RunStatus.FAILED
        run.finished_at = now
        run.next_attempt_at = None
    else:
        run.status = RunStatus.RETRYING
        run.next_attempt_at = now + retry_in


def interrupted(session: Session, task: TaskRef, now: datetime) -> None:
    run = _run(session, task, now)
    run.status = RunStatus.INTERRUPTED
    run.last_error = (
        run.last_error
        or "Le processus des travaux en arrière-plan s'est arrêté pendant l'exécution."
    )
    run.updated_at = run.finished_at = now


LOST_AFTER = timedelta(minutes=15)
"""A run "running" with no news this long lost its worker (killed); one due for its retry this
long ago lost its place in the queue (a broker flushed): longer than the queue's longest wait
between two retries (640 s) and than any one attempt."""


def take_over(session: Session, task: TaskRef, now: datetime) -> bool:
    """Whether a sweep may enqueue `task`'s job again for its arguments: not while one of its
    runs is under way or waiting for its retry (the queue holds it: a second job would count
    its attempts twice, and could fail beside a run that succeeds). The runs it replaces
    (failed, interrupted, lost) are marked relaunched, under their row locks, so the admins'
    page shows the new run, not a failure of work since done; a concurrent « Relancer » or
    sweep finds them relaunched."""
    # Finished runs of a job are few (the completed ones are not read); JSON arguments are
    # compared here, the same way on SQLite and PostgreSQL (whose `json` has no equality).
    candidates = session.scalars(
        select(JobRun)
        .where(
            JobRun.name == task.name,
            JobRun.status.in_((RunStatus.RUNNING, RunStatus.RETRYING, *NEEDS_ATTENTION)),
        )
        .order_by(JobRun.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    mine = [r for r in candidates if r.args == task.args and r.kwargs == task.kwargs]
    if any(_under_way(r, now) for r in mine):
        return False
    for run in mine:
        run.status = RunStatus.RELAUNCHED
        run.relaunched_at = run.updated_at = now
    return True


def _under_way(run: JobRun, now: datetime) -> bool:
    if run.status is RunStatus.RUNNING:
        return run.updated_at >= now - LOST_AFTER
    if run.status is RunStatus.RETRYING:
        return (run.next_attempt_at or run.updated_at) >= now - LOST_AFTER
    return False


def needing_attention(session: Session) -> Sequence[JobRun]:
    """Failed and interrupted runs, the latest first (`workflow.needing_attention` leaves out
    those whose work settled since)."""
    return _latest_first(session, NEEDS_ATTENTION)


def retrying(session: Session) -> Sequence[JobRun]:
    """Runs that failed and wait for their next attempt, the latest first."""
    return _latest_first(session, (RunStatus.RETRYING,))


def _latest_first(session: Session, statuses: tuple[RunStatus, ...]) -> Sequence[JobRun]:
    return session.scalars(
        select(JobRun)
        .where(JobRun.status.in_(statuses))
        .order_by(JobRun.updated_at.desc(), JobRun.id.desc())
    ).all()


@dataclass(frozen=True)
class Claim:
    """A failed run an admin relaunches: what to enqueue, and what to restore on failure."""

    run_id: int
    name: str
    args: list[Any]
    kwargs: dict[str, Any]
    previous: RunStatus


def locked_if_failed(session: Session, run_id: int) -> JobRun | None:
    """The run under its row lock if it still is failed or interrupted (listed for the
    admins), else None: of two clicks (or two admins) acting on it, the second waits for the
    first's commit and finds it no longer failed."""
    run = session.scalar(select(JobRun).where(JobRun.id == run_id).with_for_update())
    if run is None or run.status not in NEEDS_ATTENTION:
        return None
    return run


def dismiss(run: JobRun, now: datetime) -> None:
    """Off the admins' list for good (`locked_if_failed`'s run): the row stays, as evidence."""
    run.status = RunStatus.DISMISSED
    run.updated_at = now


def claim_relaunch(session: Session, run_id: int, now: datetime) -> Claim | None:
    """Mark a failed run relaunched, under its row lock, if it still is failed: of two
    clicks (or two admins), one relaunches; None for the other, and for a run that did not
    fail."""
    run = locked_if_failed(session, run_id)
    if run is None:
        return None
    claim = Claim(run.id, run.name, list(run.args), dict(run.kwargs), run.status)
    run.status = RunStatus.RELAUNCHED
    run.relaunched_at = run.updated_at = now
    return claim


def release_relaunch(session: Session, claim: Claim) -> None:
    """The relaunch could not be enqueued (broker down): the run is listed again."""
    run = session.scalar(select(JobRun).where(JobRun.id == claim.run_id).with_for_update())
    if run is not None and run.status is RunStatus.RELAUNCHED:
        run.status = claim.previous
        run.relaunched_at = None


def prune(session: Session, now: datetime) -> int:
    """Delete the runs that completed more than a day ago, and the relaunched ones (their new
    run has its own row); failures stay. Returns how many rows went."""
    result = session.execute(
        delete(JobRun)
        .where(
            JobRun.status.in_((RunStatus.COMPLETE, RunStatus.RELAUNCHED)),
            JobRun.updated_at < now - KEEP_COMPLETED,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))
