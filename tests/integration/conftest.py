"""Fixtures of the integration tests that run a real `paraphe worker` (tests/conftest.py holds
the application's own)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings
from tests.integration.worker_process import brokers, queued_settings


@pytest.fixture(params=brokers())
def queued(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> Settings:
    """The test's settings with its jobs written to each broker in turn (SQLite, Redis, and
    PostgreSQL on it), under a queue of its own: for a `running_worker` to read."""
    broker: str = request.param
    return queued_settings(broker, settings, tmp_path)
