from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.enums import enum_column


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"
    RETRYING = "retrying"  # failed; the queue runs it again later (backoff)
    FAILED = "failed"  # failed with no retry left: listed for the admins
    INTERRUPTED = "interrupted"  # the worker stopped while it ran: listed too
    # Enqueued again (a new run, a new row): by an admin's « Relancer », or by a sweep that
    # found its work undone and this run failed, stopped or lost (`runs.take_over`).
    RELAUNCHED = "relaunched"
    # Taken off the admins' list by an admin (« Retirer de la liste »): it failed and nothing
    # is left to relaunch. Kept, never pruned: the row is the evidence of what failed. Not
    # "relaunched", which would say that a new run took its place.
    DISMISSED = "dismissed"


# What the admins' page lists and may relaunch.
NEEDS_ATTENTION = (RunStatus.FAILED, RunStatus.INTERRUPTED)


class JobRun(Base):
    """One Huey task, from its first attempt to its last: retries keep Huey's task id, so they
    update this row (attempts, last error) rather than add one. Completed runs are pruned
    after a day (`app.job_runs.tasks.prune`); failures stay until an admin relaunches them,
    and the ones an admin dismisses stay for good."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_status_updated_at", "status", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # The job's arguments as JSON values (app.queue.tasks refuses anything else): what a
    # relaunch passes again.
    args: Mapped[list[Any]] = mapped_column(JSON)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[RunStatus] = mapped_column(enum_column(RunStatus))
    attempts: Mapped[int] = mapped_column(default=0)
    # The first lines of the last error, secrets masked (app.job_runs.redaction).
    last_error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the queue will try again (status retrying), as Huey computed it.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    relaunched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WorkerHeartbeat(Base):
    """One `paraphe worker` process seen alive: it writes `last_seen` every few seconds
    (`app.job_runs.heartbeats`). A process stopped gracefully says when (`stopped_at`); one
    killed stops writing, and the age of its `last_seen` says so. What `/sante` and the staff
    pages' warning read: without a live worker, every background job (seal, mail, generation)
    waits, and a page that shows its progress would say « en cours » forever with no sign of
    why."""

    __tablename__ = "worker_heartbeats"
    __table_args__ = (UniqueConstraint("hostname", "pid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
