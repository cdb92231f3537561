"""What the benches that run a throw-away instance share: its database, and the environment of
the processes (web server, `paraphe worker`) that serve it.

Imported after the bench has put the repository root on ``sys.path``.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.integration.worker_process import stop_worker
from tests.throwaway_postgres import throwaway_database

REPO_ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def scratch_database(tmp: Path, prefix: str) -> Iterator[str]:
    """A fresh database: SQLite in ``tmp``, or, when DATABASE_URL names a PostgreSQL server, a
    new database there (``prefix`` and a random suffix), dropped after the run."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgresql"):
        yield f"sqlite:///{tmp / 'paraphe.db'}"
        return
    with throwaway_database(base, f"{prefix}_{secrets.token_hex(4)}") as url:
        yield url


def instance_env(tmp: Path, url: str, **extra: str) -> dict[str, str]:
    """The environment of an instance in ``tmp`` on the database ``url``, set in this process
    too (the bench's own app reads it) and returned for the subprocesses: its queue on the same
    PostgreSQL, else a SQLite file beside the database, under a name of its own; no SMTP (mails
    go to the outbox), no access log. ``extra``: more variables."""
    queue_url = url if url.startswith("postgresql") else f"sqlite:///{tmp / 'queue.db'}"
    env = {
        **os.environ,
        "PARAPHE_INSTANCE_DIR": str(tmp / "instance"),
        "DATABASE_URL": url,
        "PARAPHE_QUEUE_URL": queue_url,
        "PARAPHE_QUEUE_NAME": f"bench-{secrets.token_hex(4)}",
        "PYTHONPATH": str(REPO_ROOT),
        "PARAPHE_ACCESS_LOG": "0",
        **extra,
    }
    env.pop("PARAPHE_SMTP_URL", None)
    os.environ.update(env)
    return env


@contextmanager
def paraphe_worker(env: dict[str, str], workers: int, log: Path) -> Iterator[None]:
    """`paraphe worker`, started and waited for until its consumer runs; stopped (SIGINT)."""
    paraphe = Path(sys.executable).parent / "paraphe"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(paraphe), "worker", "--workers", str(workers), "--no-periodic"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while "consumer started" not in log.read_text(errors="replace"):
            if time.monotonic() > deadline or process.poll() is not None:
                sys.exit(f"le worker n'a pas démarré :\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        time.sleep(1.0)  # its worker processes import the application
        yield
    finally:
        stop_worker(process)
