"""Double-clicks and retries on the contract pages: one effect, and never an error page.

Each test fires 20 identical requests at the same instant, from 20 threads, each with its own
test client sharing one logged-in browser session (a double-click, a retry). With
DATABASE_URL=postgresql… the transactions really overlap; SQLite serialises them (BEGIN
IMMEDIATE), where they must give the same answers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import IntegrityError
from werkzeug.test import TestResponse

from app import migrate
from app.auth.models import Role
from app.contracts.models import Contract, ContractVersion, VersionStatus
from app.db import utcnow
from app.signatures.models import LIVE_STATUSES, RequestStatus, SignatureRequest
from tests.conftest import _postgres_database
from tests.factories import (
    count,
    login_as,
    make_contracted_client,
    publish_short_cgv,
    sent_link,
    session_of,
)
from tests.integration.fixtures_security import ON_POSTGRES, iter_outbox_links, logged_in_csrf
from tests.integration.helpers import fire_together, generate_clicked_together
from tests.together import PARALLEL


def _statuses(responses: list[TestResponse]) -> list[int]:
    return sorted(r.status_code for r in responses)


@pytest.mark.committed_db  # threads on their own connections
def test_parallel_sends_of_one_version_make_one_request_and_one_invitation(app: Flask) -> None:
    publish_short_cgv(app)
    contracted = make_contracted_client(app)
    sales = login_as(app, Role.SALES)
    token = logged_in_csrf(sales)
    page = f"/contrats/{contracted.contract_id}"

    responses = fire_together(
        app, sales, lambda tab: tab.post(f"{page}/v1/envoyer", data={"csrf_token": token})
    )

    assert _statuses(responses) == [302] * PARALLEL, [
        (r.status_code, r.get_data(as_text=True)[:300]) for r in responses if r.status_code != 302
    ]
    assert {r.headers["Location"] for r in responses} == {page}
    assert count(app, SignatureRequest) == 1
    assert len(list(iter_outbox_links(app))) == 1  # the client's signer, invited once
    with session_of(app) as session:
        version = session.scalars(select(ContractVersion)).one()
        assert version.status is VersionStatus.SENT
    # One more click: told, on the contract's page, that the request already exists.
    again = sales.post(f"{page}/v1/envoyer", data={"csrf_token": token}, follow_redirects=True)
    assert again.status_code == 200
    assert "déjà envoyée pour signature" in again.get_data(as_text=True)
    assert count(app, SignatureRequest) == 1
    assert len(list(iter_outbox_links(app))) == 1


@pytest.mark.committed_db  # threads on their own connections
def test_parallel_generations_from_one_quote_make_one_contract(app: Flask) -> None:
    sales, quote_id, responses = generate_clicked_together(app)
    token = logged_in_csrf(sales)

    assert _statuses(responses) == [302] * PARALLEL, [
        (r.status_code, r.get_data(as_text=True)[:300]) for r in responses if r.status_code != 302
    ]
    assert count(app, Contract) == 1
    assert count(app, ContractVersion) == 1
    with session_of(app) as session:
        contract = session.scalars(select(Contract)).one()
        assert contract.quote_id == quote_id
    assert {r.headers["Location"] for r in responses} == {f"/contrats/{contract.id}"}
    again = sales.post(
        f"/contrats/generer/{quote_id}", data={"csrf_token": token}, follow_redirects=True
    )
    assert again.status_code == 200
    assert f"a déjà donné lieu au contrat {contract.number}" in again.get_data(as_text=True)
    assert count(app, Contract) == 1


@pytest.mark.committed_db  # threads on their own connections
def test_parallel_new_versions_from_one_page_make_one_version(app: Flask) -> None:
    """Twenty clicks on "new version" from a page showing v1 make v2 once; every click lands
    on the contract's page."""
    publish_short_cgv(app)
    contracted = make_contracted_client(app)
    sales = login_as(app, Role.SALES)
    token = logged_in_csrf(sales)
    page = f"/contrats/{contracted.contract_id}"
    assert 'name="based_on" value="1"' in sales.get(page).get_data(as_text=True)

    responses = fire_together(
        app,
        sales,
        lambda tab: tab.post(
            f"{page}/versions",
            data={"csrf_token": token, "reason": "Remise revue", "based_on": "1"},
        ),
    )

    assert _statuses(responses) == [302] * PARALLEL, [
        (r.status_code, r.get_data(as_text=True)[:300]) for r in responses if r.status_code != 302
    ]
    with session_of(app) as session:
        versions = session.scalars(select(ContractVersion).order_by(ContractVersion.version)).all()
        assert [v.version for v in versions] == [1, 2]
        assert [v.status for v in versions] == [VersionStatus.SUPERSEDED, VersionStatus.GENERATED]


def test_a_new_version_from_a_stale_page_shows_the_one_made_since(app: Flask) -> None:
    """A page still showing v1 after v2 was made (a colleague, a retry) creates nothing and
    says which version exists; without `based_on` (an older page), versions follow as before."""
    publish_short_cgv(app)
    contracted = make_contracted_client(app)
    sales = login_as(app, Role.SALES)
    token = logged_in_csrf(sales)
    page = f"/contrats/{contracted.contract_id}"
    first = sales.post(
        f"{page}/versions", data={"csrf_token": token, "reason": "Remise", "based_on": "1"}
    )
    assert first.status_code == 302
    stale = sales.post(
        f"{page}/versions",
        data={"csrf_token": token, "reason": "Autre remise", "based_on": "1"},
        follow_redirects=True,
    )
    assert stale.status_code == 200
    assert "La version 2 du contrat" in stale.get_data(as_text=True)
    bad = sales.post(
        f"{page}/versions", data={"csrf_token": token, "reason": "x", "based_on": "v1"}
    )
    assert bad.status_code == 422
    with session_of(app) as session:
        assert session.scalars(select(ContractVersion.version)).all() == [1, 2]


def test_the_database_holds_one_live_request_per_version(app: Flask) -> None:
    """The rule holds for any writer, not only for the send page: a second request in
    progress or signed for one version is refused by the database itself, while declined,
    expired and cancelled ones (which free the version for a new send) are not counted."""
    sent_link(app)
    with session_of(app) as session:
        version_id = session.scalars(select(SignatureRequest.contract_version_id)).one()

        def another(status: RequestStatus) -> SignatureRequest:
            return SignatureRequest(
                contract_version_id=version_id,
                status=status,
                created_at=utcnow(),
                seal_attempts=0,
            )

        for status in LIVE_STATUSES:
            session.add(another(status))
            with pytest.raises(IntegrityError, match=r"uq_signature_requests_live_version|UNIQUE"):
                session.flush()
            session.rollback()
        closed = (RequestStatus.DECLINED, RequestStatus.EXPIRED, RequestStatus.CANCELLED)
        session.add_all([another(status) for status in closed])
        session.flush()
        session.rollback()


@contextmanager
def _empty_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of its own, on the backend of this run, for a test of a migration."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'upgrade.db'}"
        return
    databases = _postgres_database(database_url)
    try:
        yield next(databases)
    finally:
        databases.close()


def test_the_upgrade_names_the_versions_the_race_sent_twice(
    database_url: str, tmp_path: Path
) -> None:
    """An instance that met the race before migration 0010 is told which versions have more
    than one live request, instead of failing on the unique index (nothing is cancelled for
    the vendor: both requests may carry signatures)."""
    with _empty_database(database_url, tmp_path) as url:
        migrate.upgrade(url, "0008")
        engine = create_engine(url)
        created = datetime(2026, 12, 1, 9, 0, tzinfo=UTC).replace(tzinfo=None)
        insert = text(
            "INSERT INTO signature_requests (id, contract_version_id, status, created_at, "
            "seal_attempts) VALUES (:id, :version, :status, :at, 0)"
        )
        with engine.begin() as conn:
            if ON_POSTGRES:  # rows only: the contracts they point to do not matter here
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            for id_, version, status in [
                (1, 7, "completed"),
                (2, 7, "sent"),
                (3, 8, "cancelled"),
                (4, 8, "sent"),
            ]:
                conn.execute(
                    insert, {"id": id_, "version": version, "status": status, "at": created}
                )
        with pytest.raises(RuntimeError, match=r"version 7 \(2 demandes\)\. Annulez") as refused:
            migrate.upgrade(url)
        assert "version 8" not in str(refused.value)
        with engine.begin() as conn:
            conn.execute(text("UPDATE signature_requests SET status = 'cancelled' WHERE id = 2"))
        migrate.upgrade(url)
        with engine.begin() as conn, pytest.raises(IntegrityError):
            conn.execute(insert, {"id": 5, "version": 8, "status": "draft", "at": created})
        engine.dispose()
