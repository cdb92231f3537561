"""`paraphe worker` as a subprocess on the test's database and broker (the real consumer)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.config import Settings


def worker_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "PARAPHE_INSTANCE_DIR": str(settings.instance_dir),
        "PARAPHE_PKI_DIR": str(settings.pki_dir),
        "PARAPHE_BASE_URL": settings.base_url,
        "PARAPHE_QUEUE_URL": settings.queue_url,
        "PARAPHE_QUEUE_NAME": settings.queue_name,
        "PARAPHE_SECRET_KEY": settings.secret_key,
        **({"PARAPHE_SMTP_URL": settings.smtp_url} if settings.smtp_url else {}),
    }


@contextmanager
def running_worker(settings: Settings, *, workers: int = 1) -> Iterator[subprocess.Popen[bytes]]:
    """Start `paraphe worker`; stop it gracefully at the end (SIGINT), killed if it hangs."""
    paraphe = Path(sys.executable).parent / "paraphe"
    log = (settings.instance_dir / "worker.log").open("ab")
    process = subprocess.Popen(
        [str(paraphe), "worker", "--workers", str(workers)],
        env=worker_env(settings),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()


def worker_log(settings: Settings) -> str:
    path = settings.instance_dir / "worker.log"
    return path.read_text(errors="replace") if path.exists() else ""
