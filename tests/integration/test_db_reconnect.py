"""Pooled connections closed behind the pool's back (server restart, idle timeout, a DBA's
pg_terminate_backend) are replaced without the application seeing an error when they sat
idle; only a query already using a connection at that moment fails, once.

On PostgreSQL the server really closes the backend; on SQLite, which has no server, the
driver connection is closed under the pool, the same situation seen from the pool."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError

from app.db import make_engine, ping_idle_connections


def _engine(database_url: str, after_s: float) -> Engine:
    if database_url.startswith("postgresql"):
        return make_engine(database_url, ping_after_idle_s=after_s)
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    ping_idle_connections(engine, after_s)
    return engine


def _kill_pooled_connection(engine: Engine, database_url: str) -> None:
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        pid = None
        if engine.dialect.name == "postgresql":
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    if pid is None:
        raw.close()  # back in the pool, closed under it
        return
    killer = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with killer.connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
        # pg_terminate_backend only signals: wait until the backend is gone.
        for _ in range(100):
            gone = admin.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}
            ).scalar_one()
            if not gone:
                break
            time.sleep(0.02)
    killer.dispose()


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.dispose()


def _counting_pings(engine: Engine, engines: list[Engine]) -> tuple[Engine, list[object]]:
    """The engine, disposed after the test, with the pings it makes recorded."""
    engines.append(engine)
    pings: list[object] = []
    original = engine.dialect.do_ping

    def counting_ping(dbapi_connection: DBAPIConnection) -> bool:
        pings.append(dbapi_connection)
        return original(dbapi_connection)

    engine.dialect.do_ping = counting_ping  # type: ignore[method-assign]
    return engine, pings


def test_an_idle_connection_closed_by_the_server_is_replaced_silently(
    database_url: str, engines: list[Engine]
) -> None:
    engine, pings = _counting_pings(_engine(database_url, after_s=0.05), engines)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
        first = conn.connection.dbapi_connection
    time.sleep(0.1)
    with engine.connect() as conn:  # idle but alive: pinged, then the same connection reused
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
        assert conn.connection.dbapi_connection is first
    assert len(pings) == 1
    _kill_pooled_connection(engine, database_url)
    time.sleep(0.1)  # idle for longer than the threshold: the checkout pings it
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 2")).scalar_one() == 2


def test_a_connection_in_steady_use_is_not_pinged_and_fails_only_once(
    database_url: str, engines: list[Engine]
) -> None:
    engine, pings = _counting_pings(_engine(database_url, after_s=3600), engines)
    for _ in range(3):
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    assert pings == []  # no extra round trip per checkout
    _kill_pooled_connection(engine, database_url)
    with pytest.raises(DBAPIError) as failure, engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert failure.value.connection_invalidated
    with engine.connect() as conn:  # the pool was invalidated: a new connection
        assert conn.execute(text("SELECT 3")).scalar_one() == 3
