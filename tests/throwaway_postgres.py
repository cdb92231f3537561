"""A PostgreSQL database made for one run and dropped after it: the test session's, and the
benches' (bench/ imports it too, so that both create and drop databases the same way)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def throwaway_database(base_url: str, name: str) -> Iterator[str]:
    """Create database `name` on the server of `base_url` and yield its URL; drop it on exit.

    One left by a killed run under the same name is dropped first. On exit, the sessions still
    connected (a server or worker that did not close its pool) are ended, else the drop fails.
    """
    url = make_url(base_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
