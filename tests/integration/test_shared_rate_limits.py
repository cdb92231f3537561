"""Rate limits hold across the worker processes of `paraphe serve`: counted in the database by
default, or in Redis. With `memory://` each worker counted on its own, so 2 workers let twice
as many password guesses through."""

from __future__ import annotations

import http.client
import re
import subprocess
import urllib.parse
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from app.auth.models import RateLimitCounter, Role
from app.config import Settings
from app.db import transaction
from tests.factories import make_user
from tests.integration.production_server import production_server as production_server
from tests.integration.production_server import serve

LIMIT = 10  # failed logins per minute and per address (app/auth/views.py)

# The counters are rows written by the server subprocesses' own connections.
pytestmark = pytest.mark.committed_db


def _guesses(base: str, address: str, count: int) -> list[int]:
    """`count` wrong passwords, each on a new connection (the server spreads connections over
    its workers), with one browser's session cookie and CSRF token."""
    host = urlsplit(base).netloc

    def request(method: str, body: str | None, cookie: str | None) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection(host, timeout=30)
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        if cookie:
            headers["Cookie"] = cookie
        conn.request(method, "/connexion", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        return response

    first = request("GET", None, None)
    cookie = first.headers["Set-Cookie"].split(";")[0]
    conn = http.client.HTTPConnection(host, timeout=30)
    conn.request("GET", "/connexion", headers={"Cookie": cookie})
    page = conn.getresponse().read().decode()
    conn.close()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    form = {"csrf_token": token.group(1), "email": address}
    return [
        request("POST", urllib.parse.urlencode({**form, "password": f"essai-{n}"}), cookie).status
        for n in range(count)
    ]


def test_the_login_limit_is_shared_by_two_workers_in_the_database(
    app: Flask, production_server: tuple[str, subprocess.Popen[bytes]]
) -> None:
    base, _process = production_server
    address = make_user(app, Role.SALES)
    statuses = _guesses(base, address, 2 * LIMIT)
    assert statuses == [401] * LIMIT + [429] * LIMIT
    with transaction(app.extensions["paraphe"].session_factory) as session:
        [counter] = session.scalars(select(RateLimitCounter))
        assert counter.count == 2 * LIMIT  # one counter, for both workers


@pytest.fixture
def redis_server(app: Flask, settings: Settings) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    # Redis runs on these machines (127.0.0.1:6379); counters are keyed by the database's
    # hash, and the test database is new for each run.
    yield from serve(settings, {"PARAPHE_RATELIMIT_STORAGE": "redis://127.0.0.1:6379/0"})


def test_the_login_limit_is_shared_by_two_workers_in_redis(
    app: Flask, redis_server: tuple[str, subprocess.Popen[bytes]]
) -> None:
    base, _process = redis_server
    address = make_user(app, Role.SALES, f"{uuid.uuid4().hex[:8]}@example.test")
    statuses = _guesses(base, address, 2 * LIMIT)
    assert statuses == [401] * LIMIT + [429] * LIMIT
    with transaction(app.extensions["paraphe"].session_factory) as session:
        assert list(session.scalars(select(RateLimitCounter))) == []  # counted in Redis


def test_serve_refuses_per_process_limits_with_several_workers(settings: Settings) -> None:
    from dataclasses import replace

    from app.factory import create_app

    app = create_app(replace(settings, ratelimit_storage_uri="memory://"))
    try:
        result = app.test_cli_runner().invoke(args=["serve", "--workers", "2"])
        assert result.exit_code == 2, result.output
        assert "chaque limite de débit serait multipliée par 2" in result.output
    finally:
        app.extensions["paraphe"].engine.dispose()
