"""Publishing CGV to many clients with a real broker and `paraphe worker` (a subprocess): the
request answers at once without mailing anyone; the fan-out and the notification jobs mail
each active client exactly once, even with each chunk enqueued twice and two worker
processes, and even when the worker is killed (SIGKILL) in the middle of a mail and started
again. Runs on the configured database (DATABASE_URL=postgresql… for PostgreSQL, whose
database is then the broker too)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from app.auth.models import Role, Scope
from app.config import Settings
from app.db import transaction, utcnow
from app.mail import records
from app.mail.models import MailStatus, OutgoingMailRecord
from app.mail.records import LOST_AFTER
from app.mail.tasks import deliver_mail
from app.rendering.french import format_decimal, plural
from app.terms import tasks, workflow
from app.terms.models import CgvNotification, CgvVersion
from app.terms.planning import CLAIM_LEASE
from tests.conftest import csrf_from
from tests.factories import login_as, make_token, runtime, session_of
from tests.factories.bulk_clients import client_email, seed_active_clients
from tests.integration.helpers import PREVIEW_HASH
from tests.integration.worker_process import (
    WORKER_PROCESS_MARKS,
    database_broker,
    queued_settings,
    running_worker,
    wait_until,
    worker_log,
)

pytestmark = WORKER_PROCESS_MARKS

BODY = "# CGV\n\n## Article 1. Objet\n\nLe service.\n\n## Article 2. Prix\n\n100 € par mois.\n"


def _queued(settings: Settings, tmp_path: Path, **changes: Any) -> Settings:
    """A real broker: the database itself on PostgreSQL, a SQLite file beside it otherwise;
    each test its own queue (parallel runs share PostgreSQL)."""
    return replace(queued_settings(database_broker(settings), settings, tmp_path), **changes)


def _publish(app: Flask, browser: FlaskClient) -> tuple[float, int]:
    """Submit the form, render its preview here (no worker runs yet: what the workers do is
    what follows the publication), publish it; returns the publishing request's duration
    and the version's id."""
    page = browser.get("/cgv/nouvelle")
    data = {
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "label": "3.0",
        "title": "Conditions générales de vente",
        "effective_date": "2024-01-01",
        "kind": "material",
        "summary": "Nouveau prix.",
        "body_markdown": BODY,
        "source_format": "markdown",
    }
    submitted = browser.post("/cgv/nouvelle", data=data)
    assert submitted.status_code == 302, submitted.get_data(as_text=True)
    preview_url = submitted.headers["Location"]
    preview_id = int(preview_url.rsplit("/", 1)[1])
    workflow.render_preview(runtime(app).collaborators(utcnow()), preview_id)
    html = browser.get(preview_url).get_data(as_text=True)
    shown = PREVIEW_HASH.search(html)
    assert shown is not None
    started = time.perf_counter()
    response = browser.post(
        f"{preview_url}/publier", data={"csrf_token": csrf_from(html), "sha256": shown[1]}
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 302, response.get_data(as_text=True)
    version_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return elapsed, version_id


def _progress(browser: FlaskClient, version_id: int) -> dict[str, Any]:
    response = browser.get(f"/cgv/versions/{version_id}/avancement")
    assert response.status_code == 200
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def _sent_rows(app: Flask, version_id: int) -> tuple[int, int]:
    """(rows, rows stamped sent) of the version."""
    with session_of(app) as session:
        rows, sent = session.execute(
            select(func.count(), func.count(CgvNotification.sent_at)).where(
                CgvNotification.cgv_version_id == version_id
            )
        ).one()
        return int(rows), int(sent)


def _outbox_recipients(outbox: Path) -> Counter[str]:
    parser = BytesHeaderParser()
    return Counter(str(parser.parsebytes(path.read_bytes())["To"]) for path in outbox.glob("*.eml"))


@pytest.mark.parametrize(
    "clients", [1_000, pytest.param(10_000, marks=pytest.mark.slow)], ids=["1k", "10k"]
)
def test_publishing_answers_at_once_and_workers_notify_each_client_once(
    clients: int, settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    queued = _queued(settings, tmp_path)
    app = make_app(queued)
    seed_active_clients(runtime(app).session_factory, clients, utcnow())
    legal = login_as(app, Role.LEGAL)

    elapsed, version_id = _publish(app, legal)

    # Recorded and answered; nothing rendered or mailed in the request.
    assert elapsed < 1.0, f"the publication request took {elapsed:.2f} s"
    assert _sent_rows(app, version_id) == (0, 0)
    assert _outbox_recipients(queued.outbox_dir) == Counter()
    with session_of(app) as session:
        version = session.get(CgvVersion, version_id)
        assert version is not None and version.document_id is None
    page = legal.get(f"/cgv/versions/{version_id}").get_data(as_text=True)
    assert "Notification des clients en préparation" in page
    assert "data-progress-url" in page and "cgv-progress.js" in page
    assert _progress(legal, version_id)["done"] is False

    # A second fan-out (a double submission, a sweep): every chunk is enqueued twice.
    tasks.fan_out.enqueue(version_id)
    started = time.monotonic()
    with running_worker(queued, workers=2):
        wait_until(lambda: _progress(legal, version_id)["done"], queued, seconds=60 + clients / 20)
        # Stamped notifications are outbox rows: the workers' mail.deliver jobs send them.
        wait_until(
            lambda: len(_outbox_recipients(queued.outbox_dir)) >= clients,
            queued,
            seconds=60 + clients / 20,
        )
        print(f"{clients} clients notified in {time.monotonic() - started:.1f} s (2 workers)")
        time.sleep(1.0)  # the duplicate chunks had time to run: they must mail nobody

    assert _sent_rows(app, version_id) == (clients, clients)
    recipients = _outbox_recipients(queued.outbox_dir)
    assert len(recipients) == clients and set(recipients.values()) == {1}
    assert set(recipients) == {client_email(n) for n in range(clients)}
    told = plural(clients, "client notifié", "clients notifiés")  # « 1 000 clients notifiés »
    assert _progress(legal, version_id) == {
        "notified": clients,
        "total": clients,
        "pending": 0,
        "done": True,
        "text": f"{told} sur {format_decimal(clients)}",
    }
    page = legal.get(f"/cgv/versions/{version_id}").get_data(as_text=True)
    assert f"{told} sur {format_decimal(clients)}" in page
    assert "data-progress-url" not in page  # done: nothing to poll
    token = make_token(app, Scope.READ)
    api = app.test_client().get(
        f"/api/v1/cgv-versions/{version_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert api.get_json()["notifications"]["notified"] == clients
    with session_of(app) as session:
        version = session.get(CgvVersion, version_id)
        assert version is not None and version.document_id is not None  # the PDF job ran


class _HoldingServer:
    """An SMTP server that accepts `hold_after` mails, then holds each next one (the mail
    server is slow: the worker waits inside its SMTP exchange) until told to refuse them."""

    def __init__(self, hold_after: int) -> None:
        self.hold_after = hold_after
        self.holding = True
        self.held = 0
        self.received: list[str] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        if self.holding and len(self.received) >= self.hold_after:
            self.held += 1
            while self.holding:
                await asyncio.sleep(0.05)
            return "451 4.3.0 Réessayez plus tard"  # its sender is dead by now
        self.received.extend(envelope.rcpt_tos)
        return "250 OK"


@contextmanager
def _smtp_server(hold_after: int) -> Iterator[tuple[int, _HoldingServer]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = _HoldingServer(hold_after)
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, server
    finally:
        server.holding = False
        controller.stop()


@pytest.mark.parametrize(
    "clients", [1_000, pytest.param(10_000, marks=pytest.mark.slow)], ids=["1k", "10k"]
)
def test_a_worker_killed_in_the_middle_of_a_mail_leaves_no_client_twice_nor_forgotten(
    clients: int, settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    hold_after = clients * 3 // 10
    with _smtp_server(hold_after) as (port, server):
        queued = _queued(settings, tmp_path, smtp_url=f"smtp://127.0.0.1:{port}")
        app = make_app(queued)
        seed_active_clients(runtime(app).session_factory, clients, utcnow())
        legal = login_as(app, Role.LEGAL)
        _, version_id = _publish(app, legal)

        with running_worker(queued, workers=2) as worker:
            # Both worker processes are inside an SMTP exchange that never ends: kill -9.
            wait_until(lambda: server.held == 2, queued, seconds=60 + clients / 50)
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        server.holding = False

        # The server took `hold_after` mails; the held ones were not taken. The notifications
        # are stamped when their mail is written to the outbox, so some or all are stamped.
        assert len(server.received) == hold_after, worker_log(queued)[-4000:]

        # The periodic sweeps, run once the dead jobs' claims and the mails stuck "sending"
        # have expired: CGV chunks whose jobs died are handed out again, and the outbox's
        # lost deliveries are enqueued again.
        later = utcnow() + max(CLAIM_LEASE, LOST_AFTER) + timedelta(minutes=1)
        tasks.resume(runtime(app).collaborators(later))
        with transaction(runtime(app).session_factory) as session:
            # The held mails' rows stay "sending" (their worker died): time passes for them.
            session.execute(
                update(OutgoingMailRecord)
                .where(OutgoingMailRecord.status == MailStatus.SENDING)
                .values(last_attempt_at=utcnow() - LOST_AFTER - timedelta(minutes=1))
            )
        with transaction(runtime(app).session_factory) as session:
            lost = records.lost(session, now=utcnow())
        assert lost, "the held mails are found again"
        for mail_id in lost:
            deliver_mail.enqueue(mail_id)
        with running_worker(queued, workers=2):
            wait_until(lambda: _progress(legal, version_id)["done"], queued, 60 + clients / 20)
            wait_until(lambda: len(set(server.received)) >= clients, queued, 60 + clients / 20)
            time.sleep(1.0)  # duplicate chunks (queued before the kill, and the sweep's) ran

    assert _sent_rows(app, version_id) == (clients, clients)
    taken = Counter(server.received)
    twice = [address for address, n in taken.items() if n > 1]
    assert not twice, f"mailed twice: {twice[:20]}\n{worker_log(queued)[-4000:]}"
    assert len(taken) == clients
    assert set(taken) == {client_email(n) for n in range(clients)}
