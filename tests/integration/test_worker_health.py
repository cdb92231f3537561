"""Whether anybody runs the background jobs: `/sante` for load balancers and monitoring, and a
warning on the staff's pages when no `paraphe worker` is alive (without it, every page that
shows a job's progress would say « en cours » forever, with no sign of why)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app.auth.models import Role
from app.config import Settings
from app.db import transaction, utcnow
from app.factory import create_app
from app.job_runs import heartbeats
from app.job_runs.health import STOPPED
from app.job_runs.models import WorkerHeartbeat
from tests.factories import login_as, session_of
from tests.integration.worker_process import queued_settings, running_worker, wait_until
from tests.loopback import free_port, wait_for_port

WARNING = "Les travaux en arrière-plan sont à l'arrêt"


def _beat(app: Flask, pid: int, seconds_ago: float) -> None:
    with transaction(app.extensions["paraphe"].session_factory) as session:
        heartbeats.beat(session, "machine-1", pid, utcnow() - timedelta(seconds=seconds_ago))


def _health(app: Flask) -> tuple[int, dict[str, object]]:
    response = app.test_client().get("/sante")  # no login: a load balancer asks
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert isinstance(body, dict)
    return response.status_code, body


def test_inline_jobs_need_no_worker(app: Flask) -> None:
    code, body = _health(app)
    assert code == 200
    assert body == {
        "status": "ok",
        "checks": {
            "database": {"status": "ok"},
            "queue": {"status": "ok", "mode": "inline"},
            "workers": {"status": "ok", "mode": "inline"},
        },
    }
    admin = login_as(app, Role.ADMIN)
    assert WARNING not in admin.get("/").get_data(as_text=True)
    page = admin.get("/travaux/en-echec").get_data(as_text=True)
    assert "chaque travail s'exécute aussitôt" in page


@pytest.fixture
def queued_app(settings: Settings, tmp_path: Path, make_app: Callable[[Settings], Flask]) -> Flask:
    return make_app(queued_settings("sqlite", settings, tmp_path))


def test_without_a_worker_the_service_is_degraded_and_the_staff_are_told(
    queued_app: Flask,
) -> None:
    code, body = _health(queued_app)
    assert code == 200  # the pages still answer: taking this machine out would not help
    assert body["status"] == "degraded"
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert checks["queue"] == {"status": "ok", "waiting": 0}
    assert checks["workers"]["status"] == "stopped"
    assert checks["workers"]["last_seen"] is None
    assert "Démarrez « paraphe worker »" in checks["workers"]["message"]

    # Every staff page says so; the admins are told what to run, the others whom to tell.
    admin_page = login_as(queued_app, Role.ADMIN).get("/").get_data(as_text=True)
    assert WARNING in admin_page and "<code>paraphe worker</code>" in admin_page
    sales_page = login_as(queued_app, Role.SALES).get("/clients/").get_data(as_text=True)
    assert WARNING in sales_page and "Prévenez votre administrateur" in sales_page
    assert "paraphe worker" not in sales_page
    # Not the login page, nor anything a client or signer sees.
    assert WARNING not in queued_app.test_client().get("/connexion").get_data(as_text=True)


def test_a_live_worker_clears_the_warning_and_a_silent_one_raises_it_again(
    queued_app: Flask,
) -> None:
    _beat(queued_app, pid=101, seconds_ago=5)
    _beat(queued_app, pid=102, seconds_ago=30)
    code, body = _health(queued_app)
    assert (code, body["status"]) == (200, "ok")
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert checks["workers"]["alive"] == 2
    admin = login_as(queued_app, Role.ADMIN)
    assert WARNING not in admin.get("/").get_data(as_text=True)

    with session_of(queued_app) as session:
        # Four missed beats and it is taken for gone (killed, machine lost).
        later = heartbeats.liveness(session, utcnow() + heartbeats.ALIVE_WITHIN)
        assert later.stopped and later.last_seen is not None
        # A day later their rows are forgotten, at the next beat of any process.
        heartbeats.beat(session, "machine-2", 7, utcnow() + timedelta(days=1, minutes=1))
        rows = session.scalars(select(WorkerHeartbeat.hostname)).all()
        assert rows == ["machine-2"]
        session.rollback()

    # Both stopped gracefully five minutes ago: no longer capacity, and the time is kept.
    stop_time = utcnow() - timedelta(minutes=5)
    with transaction(queued_app.extensions["paraphe"].session_factory) as session:
        heartbeats.stopped(session, "machine-1", 101, stop_time)
        heartbeats.stopped(session, "machine-1", 102, stop_time)
    code, body = _health(queued_app)
    assert (code, body["status"]) == (200, "degraded")
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert checks["workers"]["last_seen"] == stop_time.isoformat()
    page = admin.get("/").get_data(as_text=True)
    assert WARNING in page and "n'est actif depuis le " in page
    # A pid that comes back (a restart drawing the same number) is capacity again.
    _beat(queued_app, pid=101, seconds_ago=0)
    assert _health(queued_app)[1]["status"] == "ok"


def test_an_unreachable_database_is_a_503(settings: Settings, tmp_path: Path) -> None:
    app = create_app(
        replace(
            settings,
            database_url="postgresql+psycopg://postgres@127.0.0.1:1/nulle_part",
            instance_dir=tmp_path / "instance",
        )
    )
    try:
        code, body = _health(app)
    finally:
        app.extensions["paraphe"].engine.dispose()
    assert code == 503
    assert body["status"] == "down"
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert checks["database"] == {
        "status": "error",
        "message": "La base de données ne répond pas.",
    }
    assert checks["workers"]["status"] == "ok"  # inline: nobody to wait for


@pytest.fixture
def own_redis() -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """A Redis of this test's own, that it may stop."""
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
    except OSError:
        server.kill()
        raise
    yield port, server
    server.kill()
    server.wait(timeout=10)


def test_an_unreachable_broker_is_a_503(
    settings: Settings,
    make_app: Callable[[Settings], Flask],
    own_redis: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, server = own_redis
    app = make_app(replace(settings, queue_url=f"redis://127.0.0.1:{port}/0", queue_name="sante"))
    assert _health(app)[1]["checks"] == {
        "database": {"status": "ok"},
        "queue": {"status": "ok", "waiting": 0},
        "workers": {
            "status": "stopped",
            "alive": 0,
            "last_seen": None,
            "message": STOPPED,
        },
    }
    server.kill()
    server.wait(timeout=10)
    code, body = _health(app)
    assert (code, body["status"]) == (503, "down")
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert checks["queue"] == {"status": "error", "message": "La file des travaux ne répond pas."}


@pytest.mark.committed_db
@pytest.mark.real_clock
def test_paraphe_worker_processes_say_they_are_alive_and_leave_when_stopped(
    settings: Settings, tmp_path: Path, make_app: Callable[[Settings], Flask]
) -> None:
    queued = queued_settings("sqlite", settings, tmp_path)
    app = make_app(queued)

    def alive() -> int:
        with session_of(app) as session:
            return heartbeats.liveness(session, utcnow()).alive

    with running_worker(queued, workers=2):
        wait_until(lambda: alive() == 2, queued, seconds=60)  # one row per process
        code, body = _health(app)
        assert (code, body["status"]) == (200, "ok")
    # Stopped gracefully (SIGINT): at once no longer alive, and /sante says since when.
    assert alive() == 0
    with session_of(app) as session:
        assert heartbeats.liveness(session, utcnow()).last_seen is not None
        assert all(row.stopped_at is not None for row in session.scalars(select(WorkerHeartbeat)))
    assert _health(app)[1]["status"] == "degraded"

    # Killed (SIGKILL, a lost machine): its row stays, and ages out of "alive".
    with running_worker(queued, workers=1) as worker:
        wait_until(lambda: alive() == 1, queued, seconds=60)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    with session_of(app) as session:
        killed = heartbeats.liveness(session, utcnow())
        assert killed.alive == 1 and killed.last_seen is not None
        gone = heartbeats.liveness(session, killed.last_seen + heartbeats.ALIVE_WITHIN * 1.01)
        assert gone.stopped and gone.last_seen == killed.last_seen


def test_the_failed_jobs_page_shows_the_queue_and_the_workers(queued_app: Flask) -> None:
    admin = login_as(queued_app, Role.ADMIN)
    page = admin.get("/travaux/en-echec").get_data(as_text=True)
    assert "File des travaux : 0\u00a0travail en attente" in page
    assert "<strong>aucun processus <code>paraphe worker</code> actif</strong>." in page

    from app.signatures.tasks import sweep

    sweep.enqueue()  # waits in the broker: nobody takes it
    sweep.enqueue()
    _beat(queued_app, pid=101, seconds_ago=5)
    _beat(queued_app, pid=102, seconds_ago=5)
    page = admin.get("/travaux/en-echec").get_data(as_text=True)
    assert "File des travaux : 2\u00a0travaux en attente" in page
    assert "2\u00a0processus <code>paraphe worker</code> actifs." in page
