"""The access log names each request by its route, never by its raw path: signing and
restitution links carry their secret token in the path, and logs are read by more people
than the signers."""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.config import Settings
from app.factory import create_app


def test_a_signing_link_is_logged_without_its_token(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    token = secrets.token_urlsafe(32)
    with caplog.at_level(logging.INFO, logger="app.access"):
        client.get(f"/signature/{token}", headers={"X-Forwarded-For": "203.0.113.5"})
        client.get(f"/restitution/archive/{token}?x={token}")
        client.get(f"/nulle-part/{token}")
    lines = [r.getMessage() for r in caplog.records if r.name == "app.access"]
    assert len(lines) == 3, lines
    assert all(token not in line for line in lines)
    assert lines[0].startswith("127.0.0.1 GET /signature/<token> ")  # the header is not trusted
    assert " /restitution/archive/<token> " in lines[1]
    assert lines[2].startswith("127.0.0.1 GET - 404 ")  # no route: no path at all
    assert lines[0].endswith(" ms")


def test_every_answer_is_logged_with_its_status(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="app.access"):
        client.get("/connexion")
        client.post("/connexion", data={})  # no CSRF token: refused
        client.get("/api/v1/documents")  # no API token: refused
    statuses = [r.getMessage().split()[3] for r in caplog.records if r.name == "app.access"]
    assert statuses == ["200", "400", "401"]


def test_the_access_log_can_be_left_to_the_reverse_proxy(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    application = create_app(replace(settings, access_log=False))
    try:
        with caplog.at_level(logging.INFO, logger="app.access"):
            application.test_client().get("/connexion")
        assert [r for r in caplog.records if r.name == "app.access"] == []
    finally:
        application.extensions["paraphe"].engine.dispose()
