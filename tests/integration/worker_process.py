"""`paraphe worker` as a subprocess on the test's database and broker (the real consumer)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from app.config import Settings

# A test that runs `paraphe worker` as another process: the worker reads only what the test
# committed, and lives on the real clock (.ci/timetravel moves only the test process's).
WORKER_PROCESS_MARKS = [pytest.mark.committed_db, pytest.mark.real_clock]


def worker_env(settings: Settings) -> dict[str, str]:
    smtp = {"PARAPHE_SMTP_URL": settings.smtp_url} if settings.smtp_url else {}
    return {
        **os.environ,
        **smtp,
        "DATABASE_URL": settings.database_url,
        "PARAPHE_INSTANCE_DIR": str(settings.instance_dir),
        "PARAPHE_PKI_DIR": str(settings.pki_dir),
        "PARAPHE_BASE_URL": settings.base_url,
        "PARAPHE_QUEUE_URL": settings.queue_url,
        "PARAPHE_QUEUE_NAME": settings.queue_name,
        "PARAPHE_SECRET_KEY": settings.secret_key,
        # Several instance folders may share one deployment's blobs and mail (two machines).
        "PARAPHE_STORAGE_DIR": str(settings.storage_dir),
        "PARAPHE_OUTBOX_DIR": str(settings.outbox_dir),
        "PARAPHE_WEBHOOKS_ALLOW_PRIVATE": "1" if settings.webhooks_allow_private else "0",
        "PARAPHE_WEBHOOKS_RETRY_SCALE": str(settings.webhooks_retry_scale),
    }


@contextmanager
def running_worker(
    settings: Settings, *, workers: int = 1, periodic: bool = True
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `paraphe worker`; stop it gracefully at the end (SIGINT), killed if it hangs (a
    test may have killed it already: nothing is left to stop then)."""
    paraphe = Path(sys.executable).parent / "paraphe"
    log = (settings.instance_dir / "worker.log").open("ab")
    process = subprocess.Popen(
        [
            str(paraphe),
            "worker",
            "--workers",
            str(workers),
            "--periodic" if periodic else "--no-periodic",
        ],
        env=worker_env(settings),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        stop_worker(process)
        log.close()


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    """Stop a `paraphe worker` started in a session of its own as it is stopped in production
    (SIGINT: it finishes its jobs), its whole process group killed if it has not after 30 s.
    The tests' workers and the benches' stop alike (bench/scratch.py uses this one)."""
    if process.poll() is not None:
        return  # stopped already (a test may kill it)
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def worker_log(settings: Settings) -> str:
    path = settings.instance_dir / "worker.log"
    return path.read_text(errors="replace") if path.exists() else ""


def brokers() -> list[str]:
    """The brokers a real-worker test runs on: SQLite and Redis, and PostgreSQL when the
    tests run on it."""
    found = ["sqlite", "redis"]
    if os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        found.append("postgresql")
    return found


def database_broker(settings: Settings) -> str:
    """The broker that is the database the tests run on: PostgreSQL on it, SQLite otherwise
    (a file beside it)."""
    return "postgresql" if settings.database_url.startswith("postgresql") else "sqlite"


def queued_settings(broker: str, settings: Settings, tmp_path: Path) -> Settings:
    """`settings` with jobs written to `broker` under a queue of the test's own (parallel
    test runs share Redis and PostgreSQL)."""
    if broker == "sqlite":
        url = f"sqlite:///{tmp_path / 'queue.db'}"
    elif broker == "redis":
        url = "redis://127.0.0.1:6379/0"
    else:
        url = settings.database_url
    return replace(settings, queue_url=url, queue_name=f"test-{secrets.token_hex(6)}")


def wait_until(
    condition: Callable[[], bool], settings: Settings, seconds: float = 90, poll: float = 0.2
) -> None:
    """Until `condition()` holds, asked every `poll` seconds; failing with the worker's log
    after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    raise AssertionError(f"not done after {seconds} s; worker log:\n{worker_log(settings)[-4000:]}")
