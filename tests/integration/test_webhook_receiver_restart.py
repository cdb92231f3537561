"""A receiver killed while a real `paraphe worker` delivers to it gets the event once it is
started again: the interrupted attempt and the refused connections are logged, the retries
follow the webhooks' schedule (shortened by PARAPHE_WEBHOOKS_RETRY_SCALE, as the worker
reads it from its environment), and the restarted receiver gets the event once, verified with
the standardwebhooks package."""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from flask import Flask
from standardwebhooks import Webhook

from app.config import Settings
from app.webhooks.models import AttemptOutcome, DeliveryStatus
from tests.factories.webhooks import add_endpoint, attempts, only_delivery, terminate_client
from tests.integration.worker_process import WORKER_PROCESS_MARKS, running_worker, worker_log
from tests.loopback import free_port, wait_for_port

pytestmark = WORKER_PROCESS_MARKS

RETRY_SCALE = 0.01  # the schedule's 5 s, 5 min, 30 min… become 50 ms, 3 s, 18 s…


@contextmanager
def receiver_process(port: int, log: Path, delay_s: float) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.webhook_receiver_process",
            "--port",
            str(port),
            "--log",
            str(log),
            "--delay",
            str(delay_s),
        ]
    )
    try:
        wait_for_port(port)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def posts(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def wait_for(check: Callable[[], bool], seconds: float, what: str, settings: Settings) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what}\n{worker_log(settings)[-3000:]}"
        time.sleep(0.05)


def test_a_receiver_killed_while_the_worker_delivers_gets_the_event_after_restart(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    queued = replace(
        settings,
        queue_url=f"sqlite:///{tmp_path / 'queue.db'}",
        queue_name=f"test-{secrets.token_hex(6)}",
        webhooks_allow_private=True,
        webhooks_retry_scale=RETRY_SCALE,
    )
    app = make_app(queued)
    port = free_port()
    secret = add_endpoint(app, f"http://127.0.0.1:{port}/hooks").secret
    terminate_client(app)
    first_log, second_log = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    with running_worker(queued, workers=1):
        # A receiver that takes the POST and answers only after 60 s: killed mid-delivery.
        with receiver_process(port, first_log, delay_s=60) as first:
            wait_for(lambda: len(posts(first_log)) == 1, 30, "no POST reached it", queued)
            first.send_signal(signal.SIGKILL)
        # The interrupted attempt fails, the next one finds the port closed.
        wait_for(
            lambda: any(a.error == "connexion refusée" for a in attempts(app)),
            30,
            "no refused attempt",
            queued,
        )
        with receiver_process(port, second_log, delay_s=0):
            wait_for(
                lambda: any(a.outcome is AttemptOutcome.SUCCEEDED for a in attempts(app)),
                60,
                "not delivered after the restart",
                queued,
            )
            time.sleep(1.0)  # time for a duplicate, which must not come
    [post] = posts(second_log)
    assert Webhook(secret).verify(post["body"], post["headers"])["type"] == "client.terminated"
    assert post["headers"]["webhook-id"] == posts(first_log)[0]["headers"]["webhook-id"]
    logged = attempts(app)
    assert logged[0].outcome is AttemptOutcome.FAILED and logged[0].error
    assert logged[0].error != "connexion refusée"  # cut mid-answer, not refused
    assert {a.outcome for a in logged[1:-1]} == {AttemptOutcome.FAILED}
    assert all(a.error == "connexion refusée" for a in logged[1:-1])
    assert logged[-1].outcome is AttemptOutcome.SUCCEEDED and logged[-1].status_code == 200
    delivery = only_delivery(app)
    assert delivery.status is DeliveryStatus.DELIVERED and delivery.attempts == len(logged)
