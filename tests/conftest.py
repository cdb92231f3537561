"""Shared fixtures: a real database (SQLite by default, PostgreSQL when DATABASE_URL says so),
migrated once per test session with Alembic.

Each test runs inside one outer transaction on one connection, rolled back at the end
(SQLAlchemy's "joining a Session into an external transaction" recipe): the app's sessions
join it with SAVEPOINTs, so their commits are releases of a savepoint and nothing reaches the
disk. A test that needs commits seen by other connections (threads racing each other, a
server subprocess, a browser, migrations) is marked ``committed_db``: it gets the real
engine, and every table is emptied after it."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from app import migrate
from app.config import Settings
from app.db import Base, make_engine
from app.factory import create_app
from app.queue.broker import huey, is_inline
from app.queue.settings import QUEUE_INLINE
from signing import ensure_dev_pki
from tests.shared_fixtures import CGV_FIXTURE as CGV_FIXTURE  # re-exported for the tests
from tests.throwaway_postgres import throwaway_database

# The certomancer PKI over HTTP (session fixture `test_pki`), see tests/pki/; a moto S3
# server on loopback (session fixture `s3_endpoint`), see tests/s3_server.py.
pytest_plugins = [
    "tests.pki.fixtures",
    "tests.pki.softhsm",
    "tests.s3_server",
    "tests.integration.smtp_server",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-offset",
        type=int,
        default=None,
        metavar="DAYS",
        help="run the tests with their clock moved by DAYS (e.g. 365 or -365; .ci/timetravel)",
    )
    parser.addoption(
        "--clock-at",
        default=None,
        metavar="HH:MM",
        help="with --clock-offset: start the moved clock at this UTC time of day (.ci/timetravel"
        " uses 23:05, when the date in Paris is already the next day)",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Proves that no test depends on the calendar date. The clock moves inside the pytest
    # processes only (time.time, datetime.now, ...; not time.monotonic nor sleeps): the
    # subprocesses (certomancer, pdfsig, the production server) and the database server keep
    # the real one. libfaketime cannot do it here: under it, Python 3.11's time.sleep fails
    # with EINVAL (FAKETIME_DONT_FAKE_MONOTONIC=1) or timed waits hang (without it).
    days = config.getoption("--clock-offset")
    if days:
        import time_machine

        traveller = time_machine.travel(
            moved_clock(datetime.now(UTC), days, config.getoption("--clock-at")), tick=True
        )
        traveller.start()
        config.add_cleanup(traveller.stop)


def moved_clock(now: datetime, days: int, at: str | None) -> datetime:
    """Where the moved clock starts: `days` from `now`, at the UTC time of day `at` if given.
    From 23:00 to midnight UTC the date in Paris (the business date: due dates, days late,
    effective dates) is already the next day in every season, so a test that builds a date
    from the UTC date and compares it with one the app derives in Paris fails there. The
    2026-12-05 CI run found one such test by chance, at 23:40 UTC; the time-travel run now
    goes there on purpose."""
    moved = now + timedelta(days=days)
    if at is None:
        return moved
    match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", at)
    if match is None:
        raise pytest.UsageError(f"--clock-at attend HH:MM (heure UTC), pas « {at} »")
    return moved.replace(hour=int(match[1]), minute=int(match[2]), second=0, microsecond=0)


# Fixtures whose processes open their own connections to the test database.
_OTHER_PROCESSES = {"production_server", "redis_server", "live_server"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A browser or a server subprocess reads what the test committed: no outer transaction.
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("e2e") or fixtures & _OTHER_PROCESSES:
            item.add_marker(pytest.mark.committed_db)


def _postgres_database(base_url: str) -> Generator[str, None, None]:
    """A throw-away database per test session (and per xdist worker)."""
    with throwaway_database(base_url, f"paraphe_test_{uuid.uuid4().hex[:10]}") as url:
        yield url


@contextmanager
def migrated_database(folder: Path, revision: str = "head") -> Iterator[str]:
    """A new database migrated to `revision`: on PostgreSQL when DATABASE_URL names it (dropped
    afterwards), else a SQLite file in `folder`."""
    configured = os.environ.get("DATABASE_URL", "")
    if not configured.startswith("postgresql"):
        url = f"sqlite:///{folder / 'paraphe.db'}"
        migrate.upgrade(url, revision)
        yield url
        return
    if configured.startswith("postgresql://"):
        configured = "postgresql+psycopg://" + configured.removeprefix("postgresql://")
    databases = _postgres_database(configured)
    url = next(databases)
    try:
        migrate.upgrade(url, revision)
        yield url
    finally:
        databases.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with migrated_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One development PKI for the whole run: creating keys is the slow part.
    return tmp_path_factory.mktemp("pki")


def sealing_around(settings: Settings, directory: Path, now: datetime) -> Settings:
    """``settings`` signing with a development PKI created around ``now`` (certificates valid
    from a few minutes before it), for a test that fixes ``now`` and signs at that instant.

    The session's PKI (``pki_dir``) is created at the real time, so it is not valid at an
    instant fixed in the source once the calendar has moved on (or before it gets there). The
    PKI made here is handed to the app as a PKCS#12 seal with its root in ``pki/trust/``,
    the production path, so the app never re-creates it at the real time. Verify what it
    signs with ``validation_time=now``.
    """
    pki_dir = directory / "pki-around"
    pki = ensure_dev_pki(pki_dir, now=now)
    trust = pki_dir / "trust"
    trust.mkdir(exist_ok=True)
    (trust / "dev-root-around.pem").write_bytes(pki.root_cert_pem)
    return replace(
        settings,
        pki_dir=pki_dir,
        seal_pkcs12_path=pki.pkcs12_path,
        seal_pkcs12_passphrase=pki.passphrase.decode(),
    )


def committed(request: pytest.FixtureRequest) -> bool:
    """Whether the running test asked for a committed database (marker ``committed_db``)."""
    return request.node.get_closest_marker("committed_db") is not None


@pytest.fixture(autouse=True)
def _empty_inline_schedule() -> Iterator[None]:
    """Inline, a job queued for later (a webhook retry) waits in Huey's in-memory schedule,
    which nothing runs and which outlives the test: each test starts and ends with it empty,
    so one test's leftovers are not counted by the next."""
    if is_inline():
        huey.storage.flush_schedule()
    yield
    if is_inline():
        huey.storage.flush_schedule()


@pytest.fixture
def settings(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str, pki_dir: Path
) -> Settings:
    base = Settings.from_env(
        {"PARAPHE_INSTANCE_DIR": str(tmp_path / "instance"), "DATABASE_URL": database_url}
    )
    # Jobs run inline, where they are enqueued (Huey's immediate mode, the same task code):
    # the tests that need a real broker and `paraphe worker` say so (tests/integration/
    # test_job_queue.py).
    settings = replace(base, pki_dir=pki_dir, testing=True, queue_url=QUEUE_INLINE)
    if not committed(request):
        # The rate-limit counters live in the database through their own engine; on SQLite
        # that connection would wait for the test's outer transaction (it holds the write
        # lock) until the busy timeout. Counted in memory, the limits stay the same per app;
        # the shared database storage has its own committed tests (test_shared_rate_limits).
        settings = replace(settings, ratelimit_storage_uri="memory://")
    return settings


def _empty_all_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
    engine.dispose()


@pytest.fixture(scope="session")
def _outer_engine(database_url: str) -> Iterator[Engine]:
    # make_engine's SQLite set-up (driver transaction handling off, BEGIN IMMEDIATE from the
    # "begin" event) is also the workaround pysqlite needs for SAVEPOINT to work.
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


class _JoinedSession(Session):
    """A session inside the test's outer transaction.

    ``read_only_db_session`` asks PostgreSQL for autocommit on a fresh connection; the joined
    connection is already in the outer transaction, where that is refused, so the read runs
    in it instead (the autocommit path is exercised by the committed tests)."""

    def connection(self, bind_arguments: Any = None, execution_options: Any = None) -> Connection:
        if execution_options:
            execution_options = {
                k: v for k, v in execution_options.items() if k != "isolation_level"
            }
        return super().connection(bind_arguments, execution_options or None)


@pytest.fixture
def db_connection(
    request: pytest.FixtureRequest, database_url: str, _outer_engine: Engine
) -> Iterator[Connection | None]:
    """The test's outer transaction, or None for a ``committed_db`` test (emptied after)."""
    if committed(request):
        yield None
        _empty_all_tables(database_url)
        return
    with _outer_engine.connect() as connection:
        outer = connection.begin()
        try:
            yield connection
        finally:
            if outer.is_active:
                outer.rollback()


def join(application: Flask, connection: Connection | None) -> Flask:
    """Make ``application``'s sessions join the test's outer transaction (when there is one)."""
    if connection is not None:
        application.extensions["paraphe"].session_factory = sessionmaker(
            bind=connection,
            class_=_JoinedSession,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
        )
    return application


@pytest.fixture
def make_app(db_connection: Connection | None) -> Iterator[Callable[[Settings], Flask]]:
    """``create_app`` for a test that needs its own settings: the apps share the test's
    database (its outer transaction), and are closed after the test."""
    made: list[Flask] = []

    def make(settings: Settings) -> Flask:
        application = join(create_app(settings), db_connection)
        made.append(application)
        return application

    yield make
    for application in made:
        application.extensions["paraphe"].engine.dispose()


@pytest.fixture
def app(settings: Settings, make_app: Callable[[Settings], Flask]) -> Flask:
    return make_app(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)
