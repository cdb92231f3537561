"""Whether any worker runs the background jobs, from the heartbeats of `paraphe worker`'s
processes (`app.job_runs.pulse` writes them). Single-transaction services: the caller passes
the session and `now`, and commits.

Why rows in the database rather than asking the broker: the broker says how many jobs wait,
never whether anybody will take them; and every web process, on every machine, already reads
this database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.job_runs.models import WorkerHeartbeat

BEAT = timedelta(seconds=15)
"""How often a worker process writes its heartbeat."""
ALIVE_WITHIN = timedelta(seconds=60)
"""A process whose last heartbeat is older is taken for gone (killed, machine lost): four
missed beats, so that a database slow for a moment does not raise the alarm."""
FORGET_AFTER = timedelta(days=1)
"""The rows of processes gone longer than this are deleted (restarted processes get new pids)."""


@dataclass(frozen=True)
class Liveness:
    alive: int
    """Worker processes seen within `ALIVE_WITHIN`."""
    last_seen: datetime | None
    """The latest heartbeat of any process, alive or gone, or when the last one stopped
    (None: no worker ever seen, or not within `FORGET_AFTER`)."""

    @property
    def stopped(self) -> bool:
        return self.alive == 0


def beat(session: Session, hostname: str, pid: int, now: datetime) -> None:
    """Process `pid` on `hostname` is alive at `now` (only that process writes its row)."""
    row = session.scalar(
        select(WorkerHeartbeat).where(
            WorkerHeartbeat.hostname == hostname, WorkerHeartbeat.pid == pid
        )
    )
    if row is None:
        session.add(WorkerHeartbeat(hostname=hostname, pid=pid, started_at=now, last_seen=now))
    else:
        row.last_seen = now
        row.stopped_at = None  # the pid came back (a restart that drew the same number)
    session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.last_seen < now - FORGET_AFTER))


def stopped(session: Session, hostname: str, pid: int, now: datetime) -> None:
    """Process `pid` stopped gracefully at `now`: no longer capacity, and not a lost worker;
    its row stays (until `FORGET_AFTER`) to say since when no worker runs."""
    session.execute(
        update(WorkerHeartbeat)
        .where(WorkerHeartbeat.hostname == hostname, WorkerHeartbeat.pid == pid)
        .values(last_seen=now, stopped_at=now)
    )


def liveness(session: Session, now: datetime) -> Liveness:
    alive, last_seen = session.execute(
        select(
            func.count().filter(
                WorkerHeartbeat.stopped_at.is_(None),
                WorkerHeartbeat.last_seen >= now - ALIVE_WITHIN,
            ),
            func.max(WorkerHeartbeat.last_seen),
        )
    ).one()
    return Liveness(alive=int(alive), last_seen=last_seen)
