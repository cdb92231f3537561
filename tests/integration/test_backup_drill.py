"""The backup drill (issue 17): the journey's data backed up, more work done, the database and
the blobs lost, the backup restored into a fresh instance: every document up to the backup is
there and verifies (pdfsig on the signed contract), the scrub and the journal are clean, the
work done after the backup simply does not exist. On SQLite with the filesystem store, and on
PostgreSQL (pg_dump) with the S3 store (moto on loopback)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.config import Settings
from app.documents.models import Document
from app.invoices.models import Invoice
from app.terms.models import CgvAcceptance
from tests.factories import make_invoice
from tests.factories.db import runtime
from tests.factories.signing import sign_completely
from tests.integration.backup_helpers import fresh_settings, with_backup
from tests.s3_server import CREDENTIALS, REGION, new_bucket, s3_client

pytestmark = pytest.mark.committed_db  # pg_dump and the SQLite backup API read committed data


def _count(app: Flask, model: type) -> int:
    with runtime(app).session_factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _drill(
    settings: Settings,
    make_app: Callable[[Settings], Flask],
    tmp_path: Path,
    *,
    target: str,
    fresh_storage: str | None = None,
) -> None:
    live = make_app(with_backup(settings, target, tmp_path / "keys" / "keyring.json"))
    signed = sign_completely(live)
    make_invoice(live, signed.client_id)
    backup = live.test_cli_runner().invoke(args=["backup"])
    assert backup.exit_code == 0, backup.output
    assert "Sauvegarde" in backup.output and "terminée" in backup.output
    documents, invoices = _count(live, Document), _count(live, Invoice)
    acceptances = _count(live, CgvAcceptance)
    assert acceptances >= 1
    make_invoice(live, signed.client_id)  # after the backup: must not come back
    if live.extensions["paraphe"].settings.storage_url is None:
        shutil.rmtree(runtime(live).settings.storage_dir)  # the disk is lost

    with fresh_settings(
        live.extensions["paraphe"].settings, tmp_path / "fresh", storage_url=fresh_storage
    ) as new:
        fresh = make_app(new)
        restored = fresh.test_cli_runner().invoke(args=["restore", "--from", target])
        assert restored.exit_code == 0, restored.output
        assert "Contrôle du stockage : conforme" in restored.output
        assert "Journal intact" in restored.output
        assert _count(fresh, Document) == documents
        assert _count(fresh, Invoice) == invoices  # the later invoice does not exist
        assert _count(fresh, CgvAcceptance) == acceptances
        with runtime(fresh).session_factory() as session:
            pdf_sha = session.get(Document, signed.documents["signed"]).sha256  # type: ignore[union-attr]
        pdf = tmp_path / "signed.pdf"
        pdf.write_bytes(runtime(fresh).store.get(pdf_sha))
        pdfsig = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True, check=False)
        assert "Signature is Valid" in pdfsig.stdout, pdfsig.stdout + pdfsig.stderr
        assert fresh.test_cli_runner().invoke(args=["storage", "scrub"]).exit_code == 0
        assert fresh.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
        again = fresh.test_cli_runner().invoke(args=["restore", "--from", target])
        assert again.exit_code == 1
        assert "l'instance n'est pas vide" in again.output


def test_drill(
    settings: Settings,
    make_app: Callable[[Settings], Flask],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SQLite: the filesystem store and a folder target. PostgreSQL: the S3 store, an S3
    target and an S3 store for the fresh instance, three buckets of one moto server."""
    if settings.database_backend == "sqlite":
        _drill(settings, make_app, tmp_path, target=str(tmp_path / "backups"))
        return
    s3_endpoint: str = request.getfixturevalue("s3_endpoint")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS["aws_secret_access_key"])
    raw = s3_client(s3_endpoint)
    # The stores lock what the law keeps (Object Lock); the backup target prunes its copies.
    live_bucket, fresh_bucket = new_bucket(raw, lock=True), new_bucket(raw, lock=True)
    backup_bucket = new_bucket(raw, lock=False)
    on_s3 = replace(
        settings,
        storage_url=f"s3://{live_bucket}/live",
        s3_endpoint_url=s3_endpoint,
        s3_region=REGION,
    )
    _drill(
        on_s3,
        make_app,
        tmp_path,
        target=f"s3://{backup_bucket}/sauvegardes",
        fresh_storage=f"s3://{fresh_bucket}/live",
    )
