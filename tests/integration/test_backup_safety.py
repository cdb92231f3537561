"""What a backup must survive: a tampered copy (one byte of a blob, of the dump, of the
manifest) refused by the restore, naming what failed, before anything is written; `kill -9`
midway, which leaves the previous backup intact and lets the next run complete; twenty
concurrent runs of the periodic job, which make one backup (the slot's unique key)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app.auth.models import Role
from app.backups import tasks as backup_tasks
from app.backups.manifest import Manifest
from app.backups.models import BackupRun, RunState
from app.backups.services import lateness
from app.backups.workflow import BackupFailed, backup
from app.config import Settings
from app.db import transaction, utcnow
from app.documents.models import Document, DocumentKind
from app.job_runs.models import JobRun
from app.job_runs.models import RunStatus as JobRunStatus
from tests.factories import deposit_file, login_as, make_client
from tests.factories.db import count, runtime
from tests.integration.backup_helpers import fresh_settings, with_backup
from tests.integration.worker_process import worker_env
from tests.together import run_together

pytestmark = pytest.mark.committed_db  # the dump reads committed data


def _live(settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path) -> Flask:
    return make_app(with_backup(settings, str(tmp_path / "backups"), tmp_path / "keyring.json"))


def _copy_path(target: Path, stored: str) -> Path:
    return target / "blobs" / stored[:2] / stored[2:4] / stored


def _flip(path: Path, offset: int = 40) -> None:
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _manifest(target: Path) -> Manifest:
    names = sorted(p for p in (target / "manifests").iterdir() if p.name.endswith("Z.json"))
    return Manifest.from_json(names[-1].read_bytes())


@pytest.mark.parametrize("part", ["document", "base", "manifeste"])
def test_a_tampered_backup_is_refused_naming_what_failed(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path, part: str
) -> None:
    live = _live(settings, make_app, tmp_path)
    client_id = make_client(live)
    quote = deposit_file(live, client_id, DocumentKind.QUOTE, "DEV-SAUV-1")
    assert live.test_cli_runner().invoke(args=["backup"]).exit_code == 0
    target = tmp_path / "backups"
    manifest = _manifest(target)
    if part == "document":
        _flip(_copy_path(target, manifest.blobs[quote.sha256].stored))
        expected = f"copie du document {quote.sha256} altérée"
    elif part == "base":
        _flip(_copy_path(target, manifest.dump.stored), offset=200)
        expected = "copie de la base altérée"
    else:
        path = target / "manifests" / f"{manifest.name}.json"
        path.write_bytes(path.read_bytes().replace(b'"size":', b'"size": ', 1))
        expected = f"sceau du manifeste de la sauvegarde {manifest.name} invalide"
    with fresh_settings(runtime(live).settings, tmp_path / "fresh") as new:
        fresh = make_app(new)
        result = fresh.test_cli_runner().invoke(args=["restore", "--from", str(target)])
        assert result.exit_code == 1
        assert expected in result.output, result.output
        assert next(iter(runtime(fresh).store.iter_keys()), None) is None  # nothing written
        again = fresh.test_cli_runner().invoke(args=["restore", "--from", str(target)])
        assert "l'instance n'est pas vide" not in again.output  # still empty: retry possible


@pytest.mark.real_clock  # the killed process seals with the session's PKI at the real time
def test_kill_9_midway_leaves_the_previous_backup_and_the_next_run_completes(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    live = _live(settings, make_app, tmp_path)
    client_id = make_client(live)
    deposit_file(live, client_id, DocumentKind.QUOTE, "DEV-KILL-0")
    assert live.test_cli_runner().invoke(args=["backup"]).exit_code == 0
    target = tmp_path / "backups"
    before = {p.name: p.read_bytes() for p in (target / "manifests").iterdir()}
    for n in range(200):  # enough copying for the kill to land before the manifest
        data = os.urandom(100_000)
        deposit_file(live, client_id, DocumentKind.QUOTE, f"DEV-KILL-{n + 1}", data=data)
    rt = runtime(live)
    env = {
        **worker_env(rt.settings),
        "PARAPHE_BACKUP_URL": str(target),
        "PARAPHE_BACKUP_KEYRING": str(tmp_path / "keyring.json"),
    }
    copies = target / "blobs"
    copied_before = sum(1 for p in copies.rglob("*") if p.is_file())
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "paraphe"), "backup"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while sum(1 for p in copies.rglob("*") if p.is_file()) < copied_before + 10:
        assert process.poll() is None, "the backup ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    after = {p.name: p.read_bytes() for p in (target / "manifests").iterdir()}
    assert after == before  # the previous backup untouched, no half-written one
    with rt.session_factory() as session:
        states = list(session.scalars(select(BackupRun.state).order_by(BackupRun.id)))
    assert states == [RunState.DONE, RunState.RUNNING]

    rerun = live.test_cli_runner().invoke(args=["backup"])
    assert rerun.exit_code == 0, rerun.output
    assert len(_manifest(target).blobs) == 201
    with fresh_settings(rt.settings, tmp_path / "fresh") as new:
        fresh = make_app(new)
        restored = fresh.test_cli_runner().invoke(args=["restore", "--from", str(target)])
        assert restored.exit_code == 0, restored.output
        assert count(fresh, Document) == 201


def test_twenty_concurrent_runs_of_the_periodic_job_make_one_backup(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    live = _live(settings, make_app, tmp_path)
    deposit_file(live, make_client(live), DocumentKind.QUOTE, "DEV-CONC-1")
    run_together(20, lambda _n: backup_tasks.run.run())
    with runtime(live).session_factory() as session:
        runs = session.scalars(select(BackupRun)).all()
    assert [r.state for r in runs] == [RunState.DONE]
    assert len([p for p in (tmp_path / "backups" / "manifests").iterdir()]) == 2  # json + seal


def test_a_late_or_missing_backup_is_reported(app: Flask) -> None:
    now = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        assert "jamais réussi" in (lateness(session, now, 24) or "")
        session.add(
            BackupRun(
                slot="a",
                state=RunState.DONE,
                started_at=now - timedelta(hours=30),
                finished_at=now - timedelta(hours=30),
            )
        )
        session.flush()
        assert "dernière réussie le 31 janvier 2027 à 7\u00a0h\u00a000" in (
            lateness(session, now, 24) or ""
        )
        session.add(BackupRun(slot="b", state=RunState.RUNNING, started_at=now))
        session.flush()
        assert lateness(session, now, 24) is None  # one is under way
        session.add(BackupRun(slot="c", state=RunState.DONE, started_at=now, finished_at=now))
        session.flush()
        assert lateness(session, now + timedelta(hours=2), 24) is None


def test_a_failed_run_frees_its_slot_for_the_next_attempt(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    live = _live(settings, make_app, tmp_path)
    deposit_file(live, make_client(live), DocumentKind.QUOTE, "DEV-ECHEC-1")
    blocked = tmp_path / "not-a-folder"
    blocked.write_bytes(b"")
    rt = runtime(live)
    with pytest.raises(BackupFailed, match="sauvegarde en échec"):
        backup(rt.collaborators(utcnow()), slot="periode-x", url=str(blocked))
    with rt.session_factory() as session:
        failed = session.scalars(select(BackupRun).where(BackupRun.slot == "periode-x")).one()
        assert failed.state is RunState.FAILED and failed.error
    refused = live.test_cli_runner().invoke(args=["backup", "--to", str(blocked)])
    assert refused.exit_code == 1
    assert "sauvegarde en échec" in refused.output
    done = backup(rt.collaborators(utcnow()), slot="periode-x").done
    assert done is not None and done.blobs == 1
    assert backup(rt.collaborators(utcnow()), slot="periode-x").done is None  # made: kept
    with rt.session_factory() as session:
        run = session.scalars(select(BackupRun).where(BackupRun.slot == "periode-x")).one()
        assert run.state is RunState.DONE and run.error is None


def test_a_failed_periodic_backup_is_shown_to_the_admins(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_bytes(b"")
    live = make_app(with_backup(settings, str(blocked), tmp_path / "keyring.json"))
    backup_tasks.run.enqueue()  # inline: the periodic job runs here, and fails
    with runtime(live).session_factory() as session:
        (run,) = session.scalars(select(JobRun).where(JobRun.name == "backups.run"))
    assert run.status is JobRunStatus.FAILED
    page = login_as(live, Role.ADMIN).get("/travaux/en-echec").get_data(as_text=True)
    assert f'id="run-{run.id}"' in page and "backups.run" in page
    assert "sauvegarde en échec" in page


def test_a_dump_encrypted_with_the_settings_key_needs_it_to_restore(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    configured = with_backup(settings, str(tmp_path / "backups"), tmp_path / "keyring.json")
    key = os.urandom(32)
    live = make_app(replace(configured, backup=replace(configured.backup, dump_key=key)))
    deposit_file(live, make_client(live), DocumentKind.QUOTE, "DEV-CLE-1")
    assert live.test_cli_runner().invoke(args=["backup"]).exit_code == 0
    manifest = _manifest(tmp_path / "backups")
    assert manifest.dump.key_id is not None
    stored = _copy_path(tmp_path / "backups", manifest.dump.stored).read_bytes()
    assert b"SQLite format" not in stored and b"PGDMP" not in stored
    source = str(tmp_path / "backups")
    without = replace(runtime(live).settings, backup=replace(configured.backup, dump_key=None))
    with fresh_settings(without, tmp_path / "sans-cle") as new:
        refused = make_app(new).test_cli_runner().invoke(args=["restore", "--from", source])
        assert refused.exit_code == 1
        assert "copie de la base chiffrée : PARAPHE_BACKUP_KEY manque" in refused.output
    with fresh_settings(runtime(live).settings, tmp_path / "avec-cle") as new:
        restored = make_app(new).test_cli_runner().invoke(args=["restore", "--from", source])
        assert restored.exit_code == 0, restored.output
