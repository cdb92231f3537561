"""Typed decorators over Huey's: a feature declares a job with
`@job("signatures.seal", priority=Priority.HIGH)` and enqueues it with
`seal.enqueue(request_id)`; a periodic job with `@periodic(...)`.

Defaults every job shares: retries with exponential backoff (5 s, 10 s, 20 s … about 21 min
over 8 attempts), then the job is recorded as failed (the admins' page lists it, with a retry
button). Inline (`PARAPHE_QUEUE_URL=inline`: the tests, one-off commands), a job runs once
where it is enqueued and a failure is final at once (`Job.enqueue`).

A job is written to be idempotent: the database says what is already done, so a job run twice
(a retry after a crash, a sweep that re-enqueues lost work, two workers at once) has one
effect. That guarantee is the database's (row locks, unique keys, a state re-checked
before writing), not a queue lock: Huey's locks have no lifetime on SQLite, PostgreSQL or
Redis before 7.4, so a worker killed while holding one would block that work for good.

Every job has a priority (`Priority`): a worker always takes the highest-priority job waiting,
the oldest first among equals. One FIFO queue made 20 people who had just clicked « Envoyer »
wait over 30 s for their invitation mail behind the contract generations and page images
queued before it (bench/journey.py); what a person is waiting for now goes first."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import IntEnum
from typing import Any, Generic, ParamSpec

from huey import crontab

from app.queue.broker import huey, is_inline

P = ParamSpec("P")


class Priority(IntEnum):
    """Which waiting job a worker takes first (Huey's priority: higher first, then oldest).
    Each job's declaration says why it has its rank."""

    IMMEDIATE = 100
    """Short jobs a person is waiting on right now: a one-time code or an invitation mail,
    the signature they just consented to."""
    HIGH = 75
    """A person is watching its progress on a page (the seal after the last signature)."""
    NORMAL = 50
    """Seconds of work a person asked for and will come back to (a generation, a PDF)."""
    LOW = 25
    """Work nobody watches: bulk runs, fan-outs to many clients, archives."""
    PERIODIC = 0
    """The scheduler's sweeps and housekeeping: they catch up what the others missed."""


RETRIES = 8
RETRY_DELAY = 5.0
RETRY_BACKOFF = 2.0


class Job(Generic[P]):
    """A declared job: `enqueue` hands it to the queue (or runs it at once, inline);
    `run` calls its function here and now (the CLI commands, which report its result)."""

    def __init__(self, name: str, function: Callable[P, None], wrapper: Any) -> None:
        self.name = name
        self.function = function
        self._wrapper = wrapper

    def enqueue(self, *args: P.args, **kwargs: P.kwargs) -> None:
        _check_json(self.name, args, kwargs)
        task = self._wrapper.s(*args, **kwargs)
        if is_inline():
            # Inline (Huey's immediate mode) has no consumer: a retry would be parked in
            # Huey's in-memory schedule, which nothing reads, and the run shown as "retrying"
            # for ever. So one attempt: a failure is final, recorded in job_runs (the admins'
            # page, with "Relancer"); the state in the database is left for the sweeps.
            task.retries = 0
        huey.enqueue(task)

    def enqueue_again(self, *args: P.args, **kwargs: P.kwargs) -> bool:
        """Enqueue the job again for work the database says is still undone (a sweep), unless
        a run of it with the same arguments is under way or waiting for its retry; a run of it
        that failed or stopped is marked relaunched, as the admins' « Relancer » does. One job
        chases the work, one run is visible. Whether it was enqueued."""
        _check_json(self.name, args, kwargs)
        if not _take_over(self.name, list(args), dict(kwargs)):
            return False
        self.enqueue(*args, **kwargs)
        return True

    def enqueue_in(self, delay_seconds: float, *args: P.args, **kwargs: P.kwargs) -> None:
        _check_json(self.name, args, kwargs)
        self._wrapper.schedule(args=args, kwargs=kwargs, delay=delay_seconds)

    def run(self, *args: P.args, **kwargs: P.kwargs) -> None:
        self.function(*args, **kwargs)

    @property
    def priority(self) -> Priority:
        """The rank a worker gives it among waiting jobs (kept by retries and re-enqueues)."""
        return Priority(self._wrapper.task_class.default_priority)


TakeOver = Callable[[str, list[Any], dict[str, Any]], bool]
"""Whether a sweep may enqueue a job again (name, arguments): False while a run of it is under
way or waiting for its retry. Answered by the record of runs (`app.job_runs.recording`, which
installs it with its signal receivers): the queue itself knows no database."""


def _no_record(_name: str, _args: list[Any], _kwargs: dict[str, Any]) -> bool:
    return True


_take_over: TakeOver = _no_record


def take_over_with(decide: TakeOver) -> None:
    global _take_over
    _take_over = decide


class UnknownJob(LookupError):
    """No job of that name in this process (a row written by an older release, say)."""


_declared: dict[str, Job[...]] = {}


def declared(name: str) -> Job[...]:
    """The job declared under `name` (the admins' "Relancer" button enqueues it again with
    the arguments recorded in `job_runs`). Raises UnknownJob."""
    try:
        return _declared[name]
    except KeyError:
        raise UnknownJob(name) from None


def _declare(declared_job: Job[P]) -> Job[P]:
    _declared[declared_job.name] = declared_job
    return declared_job


def _check_json(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """A job's arguments are JSON values (ids, mostly): the run is recorded with them and can
    be enqueued again from that record; an object would not survive the trip."""
    try:
        json.dumps([args, kwargs])
    except (TypeError, ValueError) as exc:
        raise TypeError(f"job {name}: arguments must be JSON values ({exc})") from None


def job(
    name: str,
    *,
    priority: Priority,
    retries: int = RETRIES,
    retry_delay: float = RETRY_DELAY,
    retry_backoff: float = RETRY_BACKOFF,
) -> Callable[[Callable[P, None]], Job[P]]:
    def declare(function: Callable[P, None]) -> Job[P]:
        # The priority is the task's default: a retry, the sweep's re-enqueue and the admins'
        # « Relancer » keep it.
        wrapper = huey.task(
            retries=retries,
            retry_delay=retry_delay,
            retry_backoff=retry_backoff,
            priority=int(priority),
            name=name,
        )(function)
        return _declare(Job(name, function, wrapper))

    return declare


def periodic(
    name: str, *, minute: str = "*", hour: str = "*", day: str = "*"
) -> Callable[[Callable[[], None]], Job[[]]]:
    """A job the worker's scheduler enqueues on a cron-like schedule (UTC), idempotent like
    every job: two schedulers by mistake, or a run that overlaps the next, do the work once."""

    def declare(function: Callable[[], None]) -> Job[[]]:
        schedule = crontab(minute=minute, hour=hour, day=day)
        wrapper = huey.periodic_task(schedule, priority=int(Priority.PERIODIC), name=name)(function)
        return _declare(Job(name, function, wrapper))

    return declare
