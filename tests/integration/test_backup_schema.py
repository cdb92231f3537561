"""A backup taken by older code is restored at this code's schema (the migrations run right
after the dump is loaded: no `paraphe db upgrade` by hand); one taken by newer code, at a
schema revision these migrations do not know, is refused before anything is written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import inspect, text

from app import migrate
from app.config import Settings
from app.db import transaction
from app.documents.models import Document, DocumentKind
from tests.factories import deposit_file, make_client
from tests.factories.db import count, runtime
from tests.integration.backup_helpers import fresh_settings, with_backup

pytestmark = pytest.mark.committed_db  # the dump reads committed data

HEAD = migrate.head_revision()


def _live(settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path) -> Flask:
    live = make_app(with_backup(settings, str(tmp_path / "backups"), tmp_path / "keyring.json"))
    deposit_file(live, make_client(live), DocumentKind.QUOTE, "DEV-SCHEMA-1")
    return live


def _revision(app: Flask) -> str:
    with runtime(app).session_factory() as session:
        return str(session.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


def test_an_older_backup_is_brought_to_this_schema(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    live = _live(settings, make_app, tmp_path)
    url = runtime(live).settings.database_url
    runtime(live).engine.dispose()  # no pooled connection in the way of the DROP TABLE
    # The live base as the previous release left it: one migration behind this code.
    assert HEAD is not None, "this code has migrations"
    previous = migrate.scripts().get_revision(HEAD).down_revision
    assert isinstance(previous, str)
    command.downgrade(migrate.alembic_config(url), previous)
    try:
        assert _revision(live) == previous
        assert live.test_cli_runner().invoke(args=["backup"]).exit_code == 0
    finally:
        migrate.upgrade(url)  # the test's own base back at head, as its teardown expects

    with fresh_settings(runtime(live).settings, tmp_path / "fresh") as new:
        fresh = make_app(new)
        restored = fresh.test_cli_runner().invoke(
            args=["restore", "--from", str(tmp_path / "backups")]
        )
        assert restored.exit_code == 0, restored.output
        assert f"schéma de la sauvegarde : {previous} → {HEAD}" in restored.output
        assert "Contrôle du stockage : conforme" in restored.output
        assert "Journal intact" in restored.output
        assert " restaurée : 1\u00a0document en base, " in restored.output  # not « (s) »
        assert _revision(fresh) == HEAD
        migrate.check(new.database_url)  # the models and the restored base agree
        runtime(fresh).engine.dispose()
        assert count(fresh, Document) == 1


def test_a_backup_from_newer_code_is_refused_before_anything_is_written(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    live = _live(settings, make_app, tmp_path)
    with transaction(runtime(live).session_factory) as session:
        # What the next release's migration would leave: a revision this code does not have.
        session.execute(text("UPDATE alembic_version SET version_num = '9001'"))
    try:
        assert live.test_cli_runner().invoke(args=["backup"]).exit_code == 0
    finally:
        # The live base is the test session's own (emptied between tests, its
        # alembic_version kept): a later test would back up a base stamped 9001.
        with transaction(runtime(live).session_factory) as session:
            session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": HEAD})

    with fresh_settings(runtime(live).settings, tmp_path / "fresh") as new:
        fresh = make_app(new)
        refused = fresh.test_cli_runner().invoke(
            args=["restore", "--from", str(tmp_path / "backups")]
        )
        assert refused.exit_code == 1
        assert "vient d'une version plus récente de Paraphe" in refused.output
        assert f"« 9001 », inconnu de celle-ci, qui s'arrête à « {HEAD} »" in refused.output
        assert next(iter(runtime(fresh).store.iter_keys()), None) is None
        with runtime(fresh).session_factory() as session:  # the fresh base still empty
            assert inspect(session.connection()).get_table_names() == []
