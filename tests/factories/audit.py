"""Journal events written, rewritten and read back through the audit services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select, update

from app.audit import services as audit
from app.audit.models import AuditChainHead, AuditEvent
from app.audit.rules import GENESIS_HASH
from app.db import transaction
from tests.factories.db import runtime

JOURNAL_T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
"""When the first event of `record_reads` happened (one a minute after it)."""


def record_reads(app: Flask, count: int = 5, start: int = 0) -> None:
    """Journal `count` document reads, numbered from `start`."""
    with transaction(runtime(app).session_factory) as session:
        for index in range(start, start + count):
            audit.record(
                session,
                now=JOURNAL_T0 + timedelta(minutes=index),
                actor="user:1",
                action="document.read",
                subject_type="document",
                subject_id=index,
                client_id=7,
                details={"n": index, "note": "accentué ✓"},
            )


def rewrite_chain(app: Flask) -> None:
    """What a forger with database access would do: change event 2 and recompute every hash
    after it, and the head, so that the chain by itself verifies again."""
    with transaction(runtime(app).session_factory) as session:
        prev = GENESIS_HASH
        for ev in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
            if ev.id == 2:
                ev.actor = "user:2"
            ev.prev_hash = prev
            ev.hash = prev = audit.stored_event_hash(ev)
        session.execute(update(AuditChainHead).values(last_hash=prev))


def journaled_details(
    app: Flask, action: str, subject_id: int, subject_type: str | None = None
) -> list[str]:
    """The `details` of every `action` event about the subject, in order; the chain is
    valid (a failure is journaled without breaking it)."""
    where = [AuditEvent.action == action, AuditEvent.subject_id == str(subject_id)]
    if subject_type is not None:
        where.append(AuditEvent.subject_type == subject_type)
    with transaction(runtime(app).session_factory) as session:
        assert audit.verify_chain(session) == []
        return list(
            session.scalars(select(AuditEvent.details).where(*where).order_by(AuditEvent.id))
        )


def audit_command(app: Flask, *args: str) -> tuple[int, str]:
    """`paraphe audit <args>`: its exit code and its output (stdout and stderr together)."""
    result = app.test_cli_runner().invoke(args=["audit", *args])
    return result.exit_code, result.output
