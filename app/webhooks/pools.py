"""Per-endpoint delivery threads inside a worker process, so that a slow receiver does not
delay the others.

A worker process runs one job at a time; a 200 ms receiver would hold it 200 ms per delivery,
and every other endpoint's deliveries would queue behind its backlog. So in a worker process
the `webhooks.deliver` job only wakes the endpoint's own pool of threads (at most
`THREADS_PER_ENDPOINT` deliveries at once per endpoint and process) and returns; each pool
thread pulls its endpoint's next due delivery from the database (oldest first), delivers it,
and goes on until none is due. A slow endpoint fills its own pool and builds a backlog in the
database, never in front of the others. Nothing is held only in memory: a delivery waiting for
a thread is a due row, and a process that dies mid-attempt leaves it to the sweep after the
attempt's lease (as before).

Outside a worker process (inline jobs: the tests, one-off commands) `active()` is None and the
job delivers its one delivery there and then."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

THREADS_PER_ENDPOINT = 16
"""Deliveries to one endpoint at once, per worker process: a receiver answering in 200 ms
gets 80 per second from each process; one that takes the full 10 s timeout, 1.6."""


class EndpointPools:
    def __init__(self, threads: int = THREADS_PER_ENDPOINT) -> None:
        self._threads = threads
        self._lock = threading.Lock()
        self._pools: dict[int, ThreadPoolExecutor] = {}
        self._running: dict[int, int] = {}
        # Woken while every thread of the endpoint was busy: one of them pulls once more
        # before it stops, so a delivery made due at that moment is not left to the sweep.
        self._woken: set[int] = set()
        # Set when the worker stops: threads finish the batch in hand and pull no more (a
        # slow endpoint's backlog would otherwise hold the process's exit).
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def wake(self, endpoint_id: int, drain: Callable[[int], bool]) -> None:
        """Have a thread of the endpoint's pool run `drain(endpoint_id)` until it returns
        False (nothing due); when all its threads are busy, one of them drains once more."""
        with self._lock:
            if self._running.get(endpoint_id, 0) >= self._threads:
                self._woken.add(endpoint_id)
                return
            self._running[endpoint_id] = self._running.get(endpoint_id, 0) + 1
            pool = self._pools.get(endpoint_id)
            if pool is None:
                pool = self._pools[endpoint_id] = ThreadPoolExecutor(
                    self._threads, thread_name_prefix=f"webhooks-{endpoint_id}"
                )
        pool.submit(self._run, endpoint_id, drain)

    def _run(self, endpoint_id: int, drain: Callable[[int], bool]) -> None:
        try:
            while True:
                while not self._stopping.is_set() and drain(endpoint_id):
                    pass
                with self._lock:
                    if endpoint_id in self._woken and not self._stopping.is_set():
                        self._woken.discard(endpoint_id)
                        continue
                    self._running[endpoint_id] -= 1
                    return
        except Exception:
            # The database out of reach, say: the due deliveries stay due, for the next wake
            # or the sweep.
            log.exception("webhook deliveries to endpoint %s stopped", endpoint_id)
            with self._lock:
                self._running[endpoint_id] -= 1


_active: EndpointPools | None = None


def start() -> None:
    """In each worker process, at its start (`paraphe worker`): deliveries go to the pools."""
    global _active
    _active = EndpointPools()


def stop() -> None:
    """When the worker process stops: no new batch is pulled."""
    if _active is not None:
        _active.stop()


def active() -> EndpointPools | None:
    return _active
