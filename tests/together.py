"""Calls released at the same instant, each in a thread of its own: how the tests make requests,
jobs and transactions race (a double click, two workers, a CRM retrying, two accountants).
What each thread raised is reported in the test's own thread: an assertion failing in a worker
thread would otherwise go unnoticed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import TypeVar

T = TypeVar("T")

PARALLEL = 20
"""How many at once, by default: enough for PostgreSQL's transactions to really overlap."""

# Generous (twenty threads on a loaded two-core machine, each with its own connection), but a
# thread still blocked after this long is a deadlock: the test fails instead of hanging.
_START_SECONDS = 60
_FINISH_SECONDS = 300


def all_at_once(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """Each of `tasks` called in its own thread, the threads released together by one barrier
    (whatever a task needs is made before, so that only the calls race); their results, in the
    tasks' order. An exception raised in a thread fails the test here, in the test's thread."""
    barrier = threading.Barrier(len(tasks))
    results: dict[int, T] = {}
    errors: list[BaseException] = []

    def run(number: int) -> None:
        try:
            barrier.wait(timeout=_START_SECONDS)
            results[number] = tasks[number]()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(tasks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=_FINISH_SECONDS)
    assert not errors, errors
    assert len(results) == len(tasks), f"{len(tasks) - len(results)} thread(s) never finished"
    return [results[n] for n in range(len(tasks))]


def at_once(task: Callable[[], T], times: int = PARALLEL) -> list[T]:
    """`task` called `times` times at the same instant (see `all_at_once`)."""
    return all_at_once([task] * times)


def run_together(count: int, work: Callable[[int], T]) -> list[T]:
    """`work(n)` for n in 0..count-1 at the same instant, when each thread needs its number
    (its own browser, its own client): see `all_at_once`."""
    return all_at_once([partial(work, n) for n in range(count)])
