"""The race harness of the concurrency tests: the same work from several threads released at
the same instant by one barrier, what each returned and what each raised collected for the
test's own thread (an assertion failing in a worker thread would otherwise go unnoticed)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

R = TypeVar("R")

# Generous: twenty threads on a loaded two-core machine, each with its own connection.
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Outcomes(Generic[R]):
    """What the threads gave back, each list in the order the threads finished."""

    results: list[R]
    errors: list[BaseException]

    def without_errors(self) -> list[R]:
        """The results, once it is checked that no thread raised."""
        assert not self.errors, self.errors
        return self.results


def run_together(count: int, work: Callable[[int], R], *, timeout: float = 300.0) -> Outcomes[R]:
    """``work(n)`` for n in 0..count-1, each in a thread of its own, all released together;
    fails if a thread has not finished within ``timeout`` seconds (a hang, not a race)."""
    barrier = threading.Barrier(count)
    lock = threading.Lock()
    results: list[R] = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=START_TIMEOUT_S)
            result = work(n)
        except BaseException as exc:  # handed to the test's thread, which asserts on it
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(result)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "un fil n'a pas fini à temps"
    return Outcomes(results, errors)
