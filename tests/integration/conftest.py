"""Fixtures shared by the integration tests: a real `paraphe worker`'s queue, a signing link
(tests/conftest.py holds the application's own)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from app.config import Settings
from tests.factories import sent_link
from tests.integration.worker_process import brokers, queued_settings


@pytest.fixture(params=brokers())
def queued(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> Settings:
    """The test's settings with its jobs written to each broker in turn (SQLite, Redis, and
    PostgreSQL on it), under a queue of its own: for a `running_worker` to read."""
    broker: str = request.param
    return queued_settings(broker, settings, tmp_path)


@pytest.fixture
def link(app: Flask) -> str:
    """A fresh signing link (/signature/<token>): the short CGV published, a client's contract
    sent to its signer (zoe@example.fr)."""
    return sent_link(app)
