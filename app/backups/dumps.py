"""The database's consistent copy: SQLite's online backup API (a page-by-page copy that sees
one committed state), `pg_dump -Fc` for PostgreSQL, taken in an exported snapshot so that the
blob list read in that same snapshot matches the dump exactly; pg_dump runs while the caller
works in the snapshot, and the dump is complete when the `snapshot` block ends. Restored with
the backup API again, or `pg_restore`."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.db import make_engine, make_session_factory


class DumpFailed(Exception):
    pass


def libpq_url(database_url: str) -> tuple[str, dict[str, str]]:
    """The SQLAlchemy URL as pg_dump reads it (no driver suffix, no password), and the
    environment that carries the password: a command line is visible to every local user."""
    url = make_url(database_url)
    env = {**os.environ}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(), env


def sqlite_path(database_url: str) -> str:
    database = make_url(database_url).database
    if not database:
        raise DumpFailed("base SQLite sans fichier : rien à sauvegarder")
    return database


@contextlib.contextmanager
def snapshot(database_url: str, dump_path: Path) -> Iterator[Session]:
    """Yield a session that reads the state the dump holds; the dump is in `dump_path` once
    the block ends (written before it starts on SQLite, meanwhile on PostgreSQL)."""
    if make_url(database_url).get_backend_name() == "sqlite":
        source = sqlite3.connect(sqlite_path(database_url))
        target = sqlite3.connect(dump_path)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        # The rows the dump holds are read from the dump itself.
        engine = make_engine(f"sqlite:///{dump_path}")
        try:
            with make_session_factory(engine)() as session:
                yield session
        finally:
            engine.dispose()
        return
    engine = create_engine(database_url, isolation_level="REPEATABLE READ")
    try:
        with Session(engine) as session, tempfile.TemporaryFile() as errors:
            snapshot_id = session.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            url, env = libpq_url(database_url)
            # pg_dump runs beside the caller's work (the blob list, the copies): an incremental
            # backup then costs the longer of the two, not their sum. Its output is a temporary
            # file read once and copied (fsynced) to the target: its own fsync is not needed.
            # Its errors go to a file, not a pipe that nobody reads while it runs.
            command = ["pg_dump", "-Fc", "--no-owner", "--no-sync",
                       f"--snapshot={snapshot_id}", "-f", str(dump_path), "-d", url]  # fmt: skip
            # Fixed argument list (pg_dump), no shell.
            process = subprocess.Popen(  # noqa: S603
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors, env=env
            )
            try:
                yield session
            except BaseException:
                process.kill()
                process.wait()
                raise
            # The snapshot lives as long as this transaction: kept open until pg_dump is done.
            if process.wait() != 0:
                errors.seek(0)
                message = errors.read().decode("utf-8", "replace").strip()[-500:]
                raise DumpFailed(f"pg_dump a échoué : {message}")
            session.rollback()
    finally:
        engine.dispose()


def restore(database_url: str, dump_path: Path) -> None:
    """Load the dump into the (empty) database of `database_url`."""
    if make_url(database_url).get_backend_name() == "sqlite":
        source = sqlite3.connect(dump_path)
        target = sqlite3.connect(sqlite_path(database_url))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return
    url, env = libpq_url(database_url)
    _run(
        ["pg_restore", "--no-owner", "--no-privileges", "--clean", "--if-exists",
         "--single-transaction", "--exit-on-error", "-d", url, str(dump_path)],
        env,
    )  # fmt: skip


def _run(command: list[str], env: dict[str, str]) -> None:
    # Fixed argument lists (pg_dump, pg_restore), no shell.
    result = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, check=False, env=env
    )
    if result.returncode != 0:
        raise DumpFailed(f"{command[0]} a échoué : {result.stderr.strip()[-500:]}")
