"""`paraphe serve` started on the test database, for the tests that go through the real
production server (tests/integration/test_production_server.py, test_restitution.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app.cli import STOP_TIMEOUT_S
from app.config import Settings
from tests.loopback import free_port


@pytest.fixture
def production_server(
    app: Flask, settings: Settings
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    yield from serve(settings)


def serve(
    settings: Settings, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`paraphe serve` with 2 workers on the test database, stopped at the end."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "PARAPHE_INSTANCE_DIR": str(settings.instance_dir),
        "PARAPHE_PKI_DIR": str(settings.pki_dir),
        "PARAPHE_BASE_URL": f"http://127.0.0.1:{port}",
        "PARAPHE_QUEUE_URL": settings.queue_url,
        "PARAPHE_QUEUE_NAME": settings.queue_name,
        "PARAPHE_SECRET_KEY": settings.secret_key,
        "PARAPHE_STORAGE_DIR": str(settings.storage_dir),
        "PARAPHE_OUTBOX_DIR": str(settings.outbox_dir),
        **(extra_env or {}),
    }
    paraphe = Path(sys.executable).parent / "paraphe"
    process = subprocess.Popen(
        [str(paraphe), "serve", "--port", str(port), "--workers", "2", "--threads", "2"],
        cwd="/",  # the factory form does not need the repository as working directory
        env=env,
        stdout=subprocess.PIPE,
        start_new_session=True,  # its own process group: the teardown can stop every worker
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/connexion", timeout=2) as response:
                if response.status == 200:
                    break
        except (OSError, urllib.error.URLError):
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                raise AssertionError(f"the server did not start:\n{output}") from None
            time.sleep(0.2)
    yield base, process
    if process.poll() is None:
        # SIGTERM lets granian stop its workers; SIGKILL on the main process alone would
        # leave them running, so the last resort is the whole group.
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S + 5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    if process.stdout:
        process.stdout.close()
