"""Migration 0016: versions published before it wait for no fan-out (they were notified in
the request that published them, or not at all from the command line), so the periodic sweep
does not mail their clients again. Run on a database of
its own, at the revision before, on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app import migrate
from tests.conftest import migrated_database

T = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def old_database(tmp_path: Path) -> Iterator[str]:
    with migrated_database(tmp_path, "0015") as url:  # the revision before 0016
        yield url


def test_published_versions_are_planned_at_their_publication(old_database: str) -> None:
    engine = create_engine(old_database)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO cgv_versions (id, label, title, effective_date, body_markdown,"
                " sha256, summary, kind, published_at, recovery_indemnity)"
                " VALUES (1, '1.0', 'CGV', :effective, '# CGV', :sha, '', 'minor', :t, '40.00')"
            ),
            {"effective": date(2024, 1, 1), "sha": "0" * 64, "t": T},
        )
    engine.dispose()

    migrate.upgrade(old_database)

    engine = create_engine(old_database)
    with engine.connect() as conn:
        planned = conn.execute(text("SELECT notifications_planned_at FROM cgv_versions")).scalar()
    engine.dispose()
    assert planned is not None and str(planned).startswith("2026-01-05")
