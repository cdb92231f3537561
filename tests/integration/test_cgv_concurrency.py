"""Two acceptances at the same instant, from two connections: two records, none lost.

Runs on the configured database; with DATABASE_URL=postgresql… the two transactions really
overlap (row locks on the audit chain head serialise only the journal, not the records)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.db import utcnow
from app.terms.acceptances import record_acceptance
from app.terms.models import AcceptanceMethod, CgvAcceptance, CgvVersion
from app.terms.versions import get_version
from tests.factories import count, make_client, publish_short_cgv, runtime, session_of
from tests.together import run_together


@pytest.mark.committed_db  # threads on their own connections
def test_two_acceptances_at_the_same_instant_are_both_kept(app: Flask) -> None:
    publish_short_cgv(app)
    client_id = make_client(app)
    with session_of(app) as session:
        version_id = session.scalars(select(CgvVersion.id)).one()
    now = utcnow()
    factory = runtime(app).session_factory
    people = ("Zoë", "Yann")

    def accept(n: int) -> None:
        with factory() as session:
            version = get_version(session, version_id)
            record_acceptance(
                session,
                client_id=client_id,
                version=version,
                shown_sha256=version.sha256,
                person_name=people[n],
                person_email=f"{people[n].lower()}@example.fr",
                method=AcceptanceMethod.CLICK_THROUGH,
                now=now,
                ip="192.0.2.7",
                user_agent="test",
                actor="test",
            )
            session.commit()

    # Both start together (SQLite then serialises them).
    run_together(len(people), accept)
    assert count(app, CgvAcceptance) == 2
    with session_of(app) as session:
        rows = session.scalars(select(CgvAcceptance)).all()
        assert {r.person_name for r in rows} == {"Zoë", "Yann"}
        assert {r.accepted_at for r in rows} == {now}
