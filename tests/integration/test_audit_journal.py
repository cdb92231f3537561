"""The hash-chained journal detects any edited, inserted or deleted event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import text

from app.audit import services as audit
from app.db import transaction
from tests.factories.audit import record_reads as _journal
from tests.factories.db import execute_sql
from tests.together import run_together

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _problems(app: Flask) -> list[str]:
    with transaction(app.extensions["paraphe"].session_factory) as session:
        return [p.message for p in audit.verify_chain(session)]


def test_intact_journal_verifies(app: Flask) -> None:
    _journal(app)
    assert _problems(app) == []


def test_altered_event_is_located(app: Flask) -> None:
    _journal(app)
    execute_sql(app, "UPDATE audit_events SET actor = 'user:2' WHERE id = 3")
    assert any("n° 3" in p and "altéré" in p for p in _problems(app))


def test_deleted_event_is_located(app: Flask) -> None:
    _journal(app)
    execute_sql(app, "DELETE FROM audit_events WHERE id = 2")
    problems = _problems(app)
    assert any("manquant" in p and "n° 3" in p for p in problems)


def test_deleted_tail_is_detected(app: Flask) -> None:
    _journal(app)
    execute_sql(app, "DELETE FROM audit_events WHERE id = 5")
    assert any("fin du journal" in p for p in _problems(app))


def test_inserted_event_is_detected(app: Flask) -> None:
    _journal(app, 3)
    execute_sql(app, "UPDATE audit_events SET id = id + 10 WHERE id = 3")
    execute_sql(
        app,
        "INSERT INTO audit_events (id, at, actor, action, subject_type, subject_id, "
        "client_id, details, prev_hash, hash) SELECT 3, at, actor, action, subject_type, "
        "subject_id, client_id, details, hash, '" + "f" * 64 + "' FROM audit_events "
        "WHERE id = 2",
    )
    assert _problems(app) != []


@pytest.mark.committed_db  # threads on their own connections
def test_concurrent_appends_chain_one_after_another(app: Flask) -> None:
    factory = app.extensions["paraphe"].session_factory

    def writer(offset: int) -> None:
        for index in range(10):
            with transaction(factory) as session:
                audit.record(
                    session,
                    now=T0 + timedelta(seconds=offset * 100 + index),
                    actor=f"w{offset}",
                    action="x",
                    subject_type="t",
                    subject_id=index,
                )

    run_together(4, writer)
    with transaction(factory) as session:
        assert session.scalar(text("SELECT count(*) FROM audit_events")) == 40
    assert _problems(app) == []
