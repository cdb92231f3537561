"""CGV previews never published are deleted by the daily purge once older than
`PARAPHE_RETENTION_CGV_PREVIEW_DAYS` (30 by default), journaled; a published one stays with
its version. The purge runs at a fixed `now`; the previews are dated around it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.archive.jobs import PurgeReport, run_purge
from app.audit.models import AuditEvent
from app.db import transaction
from app.terms import workflow
from app.terms.conversion import SourceFormat
from app.terms.errors import PreviewNotFound
from app.terms.models import CgvPreview, CgvVersion, VersionKind
from app.terms.previews import create_preview, publish_preview
from app.terms.versions import CgvDraft
from tests.factories.db import runtime, session_of
from tests.together import run_together

NOW = datetime(2031, 6, 15, 2, 15, tzinfo=UTC)


def _preview(app: Flask, label: str, created_at: datetime, *, published: bool = False) -> int:
    draft = CgvDraft(
        label=label,
        title="Conditions générales de vente",
        effective_date=(created_at + timedelta(days=60)).date(),
        body_markdown="# CGV\n\n## Article 1. Objet\n\nLe service est fourni.\n",
        summary="",
        kind=VersionKind.MINOR,
    )
    with transaction(runtime(app).session_factory) as session:
        preview = create_preview(
            session, draft, source=SourceFormat.MARKDOWN, filename=None, now=created_at
        )
        if published:
            preview.rendered_at = created_at
            publish_preview(
                session, preview.id, shown_sha256=preview.sha256, now=created_at, actor="test"
            )
        return preview.id


def _left(app: Flask) -> set[int]:
    with session_of(app) as session:
        return set(session.scalars(select(CgvPreview.id)))


def test_unpublished_previews_older_than_the_setting_are_purged_and_journaled(
    app: Flask,
) -> None:
    days = runtime(app).settings.retention.cgv_preview_days
    assert days == 30
    limit = NOW - timedelta(days=days)
    abandoned = _preview(app, "3.0", limit - timedelta(seconds=1))
    recent = _preview(app, "3.1", limit + timedelta(seconds=1))
    published = _preview(app, "3.2", limit - timedelta(days=200), published=True)
    everything = {abandoned, recent, published}
    assert _left(app) == everything

    dry = run_purge(runtime(app), today=NOW.date(), now=NOW, dry_run=True)
    assert dry.previews_deleted == 1 and _left(app) == everything  # a dry run changes nothing

    report = run_purge(runtime(app), today=NOW.date(), now=NOW, dry_run=False)
    assert report.previews_deleted == 1
    assert _left(app) == {recent, published}
    with session_of(app) as session:
        entries = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "cgv_preview.purged")
        ).all()
    assert [(e.actor, json.loads(e.details)) for e in entries] == [
        ("job:purge", {"rows": 1, "created_before": limit.isoformat()})
    ]

    again = run_purge(runtime(app), today=NOW.date(), now=NOW, dry_run=False)
    assert again.previews_deleted == 0  # nothing left to purge: nothing more journaled
    with session_of(app) as session:
        assert (
            len(
                session.scalars(
                    select(AuditEvent).where(AuditEvent.action == "cgv_preview.purged")
                ).all()
            )
            == 1
        )


@pytest.mark.committed_db  # twenty workers, each on its own connection
def test_twenty_purges_and_publications_at_once_keep_one_consistent_outcome(app: Flask) -> None:
    """Two workers' purges and legal publishing an old preview at the same moment: each row
    goes once (the DELETE re-checks its condition under the row's lock), the journal counts
    exactly what went, and a preview that became a version is never deleted."""
    old = NOW - timedelta(days=40)
    contested = _preview(app, "4.0", old)
    others = {_preview(app, f"4.{i}", old) for i in range(1, 5)}
    with transaction(runtime(app).session_factory) as session:
        session.get_one(CgvPreview, contested).rendered_at = old
        sha256 = session.get_one(CgvPreview, contested).sha256
    c = runtime(app).collaborators(NOW)

    def purge_or_publish(n: int) -> object:
        if n % 2:
            return run_purge(runtime(app), today=NOW.date(), now=NOW, dry_run=False)
        try:
            return workflow.publish_preview(c, contested, shown_sha256=sha256, actor="t")
        except PreviewNotFound as gone:  # the purge took it first: a 404 for legal
            return gone

    outcomes = run_together(20, purge_or_publish)
    assert len(outcomes) == 20, outcomes
    with session_of(app) as session:
        versions = session.scalars(select(CgvVersion)).all()
        left = set(session.scalars(select(CgvPreview.id)))
        journaled = [
            json.loads(e.details)["rows"]
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.action == "cgv_preview.purged")
            )
        ]
    assert not left & others  # every abandoned draft went
    if versions:  # published before the purge reached it: kept, with its version
        assert len(versions) == 1 and left == {contested}
        assert sum(journaled) == len(others)
    else:
        assert left == set() and sum(journaled) == len(others) + 1
    deleted = sum(o.previews_deleted for o in outcomes if isinstance(o, PurgeReport))
    assert deleted == sum(journaled)
