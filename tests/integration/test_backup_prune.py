"""`paraphe backup prune`: backups the rule no longer keeps are removed, with the copies no
kept backup names; a copy written by a removed backup but named by a kept one stays."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from app.backups.manifest import Manifest
from app.backups.workflow import backup
from app.config import Settings
from app.db import transaction, utcnow
from app.documents.models import Document, DocumentKind
from tests.factories import deposit_file, make_client
from tests.factories.db import runtime
from tests.integration.backup_helpers import with_backup

pytestmark = pytest.mark.committed_db  # the dump reads committed data


def test_prune_keeps_what_the_rule_keeps_and_every_copy_it_names(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    target = tmp_path / "backups"
    configured = with_backup(settings, str(target), tmp_path / "keyring.json")
    rule = replace(configured.backup, keep_daily=1, keep_weekly=0, keep_monthly=0)
    live = make_app(replace(configured, backup=rule))
    rt = runtime(live)
    client_id = make_client(live)
    gone = deposit_file(live, client_id, DocumentKind.QUOTE, "DEV-PRUNE-1")
    stays = deposit_file(live, client_id, DocumentKind.QUOTE, "DEV-PRUNE-2")
    now = utcnow()
    first = backup(rt.collaborators(now), slot="j1").done
    with transaction(rt.session_factory) as session:
        document = session.get(Document, gone.id)
        assert document is not None
        document.purged_at = now  # the purge took it; its blob is no longer referenced
    second = backup(rt.collaborators(now + timedelta(days=1)), slot="j2").done
    assert first is not None and second is not None
    copies_before = set(copies(target))

    result = live.test_cli_runner().invoke(args=["backup", "prune"])

    assert result.exit_code == 0, result.output
    assert "1\u00a0sauvegarde gardée, 1\u00a0supprimée" in result.output
    names = sorted(p.name for p in (target / "manifests").iterdir())
    assert names == [f"{second.name}.json", f"{second.name}.json.p7s"]
    after = set(copies(target))
    assert after < copies_before
    kept = Manifest.from_json((target / "manifests" / f"{second.name}.json").read_bytes())
    assert {c.stored for c in kept.blobs.values()} | {kept.dump.stored} == after
    assert stays.sha256 in kept.blobs and gone.sha256 not in kept.blobs


def copies(target: Path) -> list[str]:
    return [p.name for p in (target / "blobs").rglob("*") if p.is_file() and len(p.name) == 64]
