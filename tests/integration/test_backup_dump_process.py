"""The database copy taken while the backup works in the same snapshot: the dump is complete
when the block ends and matches what the block read; a failing pg_dump fails the block with
its own message; work that fails inside the block stops pg_dump and is reported as itself."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text

from app.backups import dumps
from app.config import Settings
from app.documents.models import Document, DocumentKind
from tests.factories import deposit_file, make_client

pytestmark = pytest.mark.committed_db  # the dump reads committed data

_PG_DUMP_SESSIONS = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE application_name = 'pg_dump' AND datname = current_database()"
)


def _dump_rows(settings: Settings, dump: Path) -> int:
    """The documents the dump holds, read back from it (as a plain script on PostgreSQL)."""
    if settings.database_backend == "sqlite":
        with sqlite3.connect(dump) as conn:
            return int(conn.execute("SELECT count(*) FROM documents").fetchone()[0])
    command = ["pg_restore", "--data-only", "--table=documents", "-f", "-", str(dump)]
    # Fixed argument list, no shell.
    script = subprocess.run(command, capture_output=True, text=True, check=True)
    copy = script.stdout.split("COPY public.documents", 1)[1]
    return len(copy.split("\n\\.\n", 1)[0].splitlines()) - 1


def test_the_dump_ends_complete_with_the_block_and_matches_what_it_read(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    app = make_app(settings)
    client_id = make_client(app)
    for n in range(2):
        deposit_file(app, client_id, DocumentKind.QUOTE, f"DEV-INST-{n}")
    dump = tmp_path / "base.dump"
    with dumps.snapshot(settings.database_url, dump) as snap:
        # Committed while the dump runs: neither the dump nor the block's reads see it.
        deposit_file(app, client_id, DocumentKind.QUOTE, "DEV-INST-2")
        read = snap.scalar(select(func.count()).select_from(Document))
    assert read == 2
    assert _dump_rows(settings, dump) == 2


def test_a_failure_of_the_copy_is_reported_with_its_message(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if settings.database_backend == "sqlite":
        # The SQLite copy fails on a database with no file.
        url, expected = "sqlite://", "base SQLite sans fichier"
    else:
        # A pg_dump that fails as a broken server connection would, first on the PATH.
        fake = tmp_path / "bin" / "pg_dump"
        fake.parent.mkdir()
        fake.write_text("#!/bin/sh\necho 'pg_dump: error: connexion perdue' >&2\nexit 1\n")
        fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
        monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
        url = settings.database_url
        expected = "pg_dump a échoué : pg_dump: error: connexion perdue"
    with (
        pytest.raises(dumps.DumpFailed, match=expected),
        dumps.snapshot(url, tmp_path / "base.dump") as snap,
    ):
        snap.execute(text("SELECT 1"))


def test_work_failing_inside_the_block_is_reported_as_itself(
    settings: Settings, tmp_path: Path
) -> None:
    with (
        pytest.raises(ZeroDivisionError),
        dumps.snapshot(settings.database_url, tmp_path / "base.dump") as snap,
    ):
        snap.execute(text("SELECT 1"))
        _ = 1 / 0
    if settings.database_backend == "postgresql":
        # pg_dump was stopped with the block, not left reading the database (the server ends
        # its session once it sees the connection closed: polled for a moment).
        engine = create_engine(settings.database_url)
        deadline = time.monotonic() + 10
        running = None
        while running != 0 and time.monotonic() < deadline:
            with engine.connect() as conn:
                running = conn.scalar(text(_PG_DUMP_SESSIONS))
            time.sleep(0.1)
        engine.dispose()
        assert running == 0
