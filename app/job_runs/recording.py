"""Huey's signals into `job_runs`: each attempt of each job, wherever it runs (a worker
process, or the process that enqueued it when the queue is inline).

Each signal is written in its own short transaction, with the collaborators of the process
(`app.queue.context`); a failure to write is logged by Huey and never fails the job."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from huey import signals

from app.db import transaction, utcnow
from app.job_runs import runs
from app.job_runs.redaction import error_summary
from app.queue.broker import huey
from app.queue.context import runtime
from app.queue.tasks import take_over_with


def _ref(task: Any) -> runs.TaskRef:
    return runs.TaskRef(
        task_id=str(task.id),
        name=str(task.name),
        args=list(task.args or ()),
        kwargs=dict(task.kwargs or {}),
    )


def _write(change: Callable[..., None], task: Any, **details: Any) -> None:
    with transaction(runtime().session_factory) as session:
        change(session, _ref(task), utcnow(), **details)


def take_over(name: str, args: list[Any], kwargs: dict[str, Any]) -> bool:
    """`app.queue.tasks.Job.enqueue_again`'s question, answered from `job_runs`."""
    with transaction(runtime().session_factory) as session:
        return runs.take_over(session, runs.TaskRef("", name, args, kwargs), utcnow())


def on_executing(_signal: str, task: Any) -> None:
    _write(runs.started, task)


def on_complete(_signal: str, task: Any) -> None:
    _write(runs.completed, task)


def on_error(_signal: str, task: Any, exc: BaseException) -> None:
    # Huey sends "error" before it requeues: `retries` still counts the attempts left, and
    # `retry_delay` is the wait before the next one (the backoff grows it afterwards).
    retry_in = timedelta(seconds=float(task.retry_delay or 0)) if task.retries else None
    _write(runs.failed, task, error=error_summary(exc), retry_in=retry_in)


def on_interrupted(_signal: str, task: Any) -> None:
    _write(runs.interrupted, task)


_RECEIVERS: tuple[tuple[Callable[..., None], str], ...] = (
    (on_executing, signals.SIGNAL_EXECUTING),
    (on_complete, signals.SIGNAL_COMPLETE),
    (on_error, signals.SIGNAL_ERROR),
    (on_interrupted, signals.SIGNAL_INTERRUPTED),
)


_installed: list[bool] = []


def install() -> None:
    """Connect the receivers to the queue's signals (one Huey instance per process), once
    however many applications the process builds (the tests build many)."""
    if _installed:
        return
    for receiver, signal in _RECEIVERS:
        huey.signal(signal)(receiver)
    take_over_with(take_over)
    _installed.append(True)
