"""The heartbeat of one `paraphe worker` process: a thread of its own writes it every
`heartbeats.BEAT`, from the process's start to its graceful stop (Huey's startup and
shutdown hooks, which run in each worker process). A thread, not a periodic job: a job says
that some process took it, not which processes are up, and it would wait behind long jobs.

A failed write (the database restarting) is logged and tried again at the next beat: the
heartbeat never stops the jobs."""

from __future__ import annotations

import logging
import os
import socket
import threading

from app.db import transaction, utcnow
from app.job_runs import heartbeats
from app.queue.context import runtime

log = logging.getLogger(__name__)

_stop = threading.Event()
_thread: threading.Thread | None = None


def _identity() -> tuple[str, int]:
    return socket.gethostname()[:255], os.getpid()


def _write_heartbeat() -> None:
    hostname, pid = _identity()
    try:
        with transaction(runtime().session_factory) as session:
            heartbeats.beat(session, hostname, pid, utcnow())
    except Exception:  # any database error: the next beat tries again
        log.warning("battement de cœur du worker non écrit", exc_info=True)


def _run() -> None:
    _write_heartbeat()
    while not _stop.wait(heartbeats.BEAT.total_seconds()):
        _write_heartbeat()


def start() -> None:
    """Huey startup hook: in a worker process, after its fresh database connections."""
    global _thread
    _stop.clear()
    _thread = threading.Thread(target=_run, name="paraphe-heartbeat", daemon=True)
    _thread.start()


def stop() -> None:
    """Huey shutdown hook: the process stops gracefully, and says when."""
    _stop.set()
    if _thread is not None:
        _thread.join(timeout=5)
    hostname, pid = _identity()
    try:
        with transaction(runtime().session_factory) as session:
            heartbeats.stopped(session, hostname, pid, utcnow())
    except Exception:  # the row then ages out: taken for gone after ALIVE_WITHIN
        log.warning("arrêt du worker non enregistré", exc_info=True)
