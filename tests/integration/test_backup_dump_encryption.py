"""The database dump under PARAPHE_BACKUP_KEY: written in authenticated chunks (STREAM), so
neither the backup nor the restore holds it in memory; another key is refused before anything
is written; and a backup whose dump was encrypted whole, by the code before chunking, still
restores."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app.backups import services, workflow
from app.backups.encryption import MAGIC, encrypt
from app.backups.manifest import Copy, Manifest
from app.backups.target import BackupTarget
from app.config import Settings
from app.documents.models import Document, DocumentKind
from tests.factories import deposit_file, make_client
from tests.factories.db import runtime
from tests.integration.backup_helpers import fresh_settings, with_backup

pytestmark = pytest.mark.committed_db  # the dump reads committed data


def _live(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path, key: bytes
) -> Flask:
    configured = with_backup(settings, str(tmp_path / "backups"), tmp_path / "keyring.json")
    live = make_app(replace(configured, backup=replace(configured.backup, dump_key=key)))
    deposit_file(live, make_client(live), DocumentKind.QUOTE, "DEV-FLUX-1")
    assert live.test_cli_runner().invoke(args=["backup"]).exit_code == 0
    return live


def _dump_copy(target: Path) -> tuple[Manifest, bytes]:
    names = sorted(p for p in (target / "manifests").iterdir() if p.name.endswith("Z.json"))
    manifest = Manifest.from_json(names[-1].read_bytes())
    stored = manifest.dump.stored
    return manifest, (target / "blobs" / stored[:2] / stored[2:4] / stored).read_bytes()


def _restored_references(
    live: Flask, make_app: Callable[[Settings], Flask], root: Path, key: bytes
) -> tuple[int, str, list[str]]:
    """Restore the live instance's backups into a fresh one whose PARAPHE_BACKUP_KEY is
    `key`: the exit code, the output and the documents' references found there."""
    settings = runtime(live).settings
    source = str(settings.backup.url)
    with fresh_settings(
        replace(settings, backup=replace(settings.backup, dump_key=key)), root
    ) as new:
        fresh = make_app(new)
        result = fresh.test_cli_runner().invoke(args=["restore", "--from", source])
        references: list[str] = []
        if result.exit_code == 0:
            with runtime(fresh).session_factory() as session:
                references = list(session.scalars(select(Document.reference)))
        runtime(fresh).engine.dispose()
        return result.exit_code, result.output, references


def test_the_dump_is_written_in_chunks_and_restores_only_with_its_key(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    key = os.urandom(32)
    live = _live(settings, make_app, tmp_path, key)
    manifest, stored = _dump_copy(tmp_path / "backups")
    assert manifest.dump.key_id == services.DUMP_KEY
    assert stored.startswith(MAGIC)
    code, output, _ = _restored_references(live, make_app, tmp_path / "autre", os.urandom(32))
    assert code == 1
    assert "copie de la base indéchiffrable : PARAPHE_BACKUP_KEY n'est pas celle" in output
    code, output, references = _restored_references(live, make_app, tmp_path / "bonne", key)
    assert code == 0, output
    assert references == ["DEV-FLUX-1"]


def _store_dump_before_chunking(
    target: BackupTarget, path: Path, key: bytes | None
) -> tuple[str, Copy]:
    """`workflow._store_dump` as it was before chunking, for a dump key: encrypted whole."""
    assert key is not None
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    stored = encrypt(key, services.DUMP_KEY, sha256, data)
    return sha256, Copy(target.blobs.put(stored).sha256, len(data), services.DUMP_KEY)


def test_a_dump_encrypted_whole_by_the_older_code_still_restores(
    settings: Settings,
    make_app: Callable[[Settings], Flask],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workflow, "_store_dump", _store_dump_before_chunking)
    key = os.urandom(32)
    live = _live(settings, make_app, tmp_path, key)
    monkeypatch.undo()
    _, stored = _dump_copy(tmp_path / "backups")
    assert not stored.startswith(MAGIC)
    code, output, references = _restored_references(live, make_app, tmp_path / "neuve", key)
    assert code == 0, output
    assert references == ["DEV-FLUX-1"]
