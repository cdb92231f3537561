"""Crypto-shredding (issue 17): the purge that deletes the last of a client's documents
destroys the client's backup key (keyring tombstone, row, journal) and its certificate says
so; an older backup restored afterwards yields none of those documents, and the client's rows
come back purged and anonymised as the purge left them, reported from the journal. The
invoices the law keeps are under a legal key: they come back."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from app.archive.anonymisation import ANONYMISED_NAME
from app.archive.jobs import run_purge
from app.audit.models import AuditEvent
from app.backup_keys.models import BackupKey
from app.clients.models import Client
from app.config import Settings
from app.documents.models import Document, DocumentKind
from tests.factories import deposit_file, make_client
from tests.factories.archive import terminate_in_archive
from tests.factories.db import runtime
from tests.integration.backup_helpers import fresh_settings, with_backup
from tests.integration.helpers import store_clock_at

pytestmark = pytest.mark.committed_db  # the dump reads committed data

DEPOSIT = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
TERMINATED = date(2026, 6, 30)
PURGE_DAY = datetime(2031, 8, 1, 3, 0, tzinfo=UTC)  # contracts' 5 years over, invoices' 10 not
BACKUPS = "backups"
KEYRING = Path("keys") / "keyring.json"


@pytest.fixture
def live(settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path) -> Flask:
    """The instance under test, backing up to ``tmp_path / BACKUPS`` with its keyring at
    ``tmp_path / KEYRING``."""
    return make_app(with_backup(settings, str(tmp_path / BACKUPS), tmp_path / KEYRING))


@contextlib.contextmanager
def _restored(
    live: Flask, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> Iterator[tuple[Flask, str]]:
    """A second instance restored from ``live``'s backups: (it, what the restore printed)."""
    with fresh_settings(runtime(live).settings, tmp_path / "fresh") as new:
        fresh = make_app(new)
        source = str(tmp_path / BACKUPS)
        restored = fresh.test_cli_runner().invoke(args=["restore", "--from", source])
        assert restored.exit_code == 0, restored.output
        yield fresh, restored.output


def test_purge_destroys_the_client_key_and_an_older_backup_restores_none_of_it(
    live: Flask, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    rt = runtime(live)
    client_id = make_client(live)
    other_id = make_client(live, legal_name="Autre Client SAS")
    invoice = deposit_file(live, client_id, DocumentKind.INVOICE, "FAC-2026-0001", now=DEPOSIT)
    purged = [
        deposit_file(live, client_id, kind, ref, now=DEPOSIT)
        for kind, ref in [
            (DocumentKind.SIGNED_CONTRACT, "CTR-2026-0001"),
            (DocumentKind.CONTRACT, "CTR-2026-0001"),
            (DocumentKind.QUOTE, "DEV-2026-0001"),
        ]
    ]
    kept = deposit_file(live, other_id, DocumentKind.QUOTE, "DEV-2026-0002", now=DEPOSIT)
    terminate_in_archive(live, client_id, on=TERMINATED, now=DEPOSIT)
    assert live.test_cli_runner().invoke(args=["backup"]).exit_code == 0
    assert f"client-{client_id}" in json.loads((tmp_path / KEYRING).read_text())["keys"]

    report = run_purge(
        store_clock_at(rt, PURGE_DAY), today=PURGE_DAY.date(), now=PURGE_DAY, dry_run=False
    )

    assert {item.document_id for item in report.deleted} >= {d.id for d in purged}
    ring = json.loads((tmp_path / KEYRING).read_text())
    assert f"client-{client_id}" not in ring["keys"]
    assert ring["destroyed"][f"client-{client_id}"]["destroyed_at"].startswith("2031-08-01")
    assert f"client-{other_id}" in ring["keys"]
    with rt.session_factory() as session:
        row = session.get(BackupKey, f"client-{client_id}")
        assert row is not None and row.destroyed_at is not None
        assert session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.action == "backup.key_destroyed", AuditEvent.client_id == client_id
            )
        )
        certificate = session.scalars(
            select(Document).where(Document.kind == DocumentKind.DELETION_CERTIFICATE)
        ).first()
        assert certificate is not None
        pdf = rt.store.get(certificate.sha256)
    text = " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Cette clé est détruite : aucune sauvegarde, ancienne ou future" in text

    with _restored(live, make_app, tmp_path) as (fresh, printed):
        assert f"client n° {client_id} : purgé le 1er août 2031" in printed
        assert "certificat de suppression SUP-" in printed  # why, as journaled
        assert "Contrôle du stockage : conforme" in printed
        store = runtime(fresh).store
        assert all(not store.exists(d.sha256) for d in purged)
        assert store.exists(invoice.sha256) and store.exists(kept.sha256)
        with runtime(fresh).session_factory() as session:
            for document in purged:
                row_doc = session.get(Document, document.id)
                assert row_doc is not None and row_doc.purged_at is not None
            client = session.get(Client, client_id)
            assert client is not None and client.signer_name == ANONYMISED_NAME
            assert session.scalar(
                select(AuditEvent.id).where(
                    AuditEvent.action == "backup.purge_reapplied",
                    AuditEvent.client_id == client_id,
                )
            )


def test_invoices_past_their_legal_retention_leave_the_backups_with_their_year_key(
    live: Flask, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    rt = runtime(live)
    client_id = make_client(live)
    invoice = deposit_file(live, client_id, DocumentKind.INVOICE, "FAC-2026-0009", now=DEPOSIT)
    assert invoice.retention_until is not None
    year = invoice.retention_until.year
    later = deposit_file(
        live, client_id, DocumentKind.INVOICE, "FAC-2027-0001", now=DEPOSIT.replace(year=2027)
    )
    assert later.retention_until is not None and later.retention_until.year == year + 1
    assert live.test_cli_runner().invoke(args=["backup"]).exit_code == 0
    purge_day = datetime(year + 1, 2, 1, 3, 0, tzinfo=UTC)  # after `year`, before the next

    run_purge(store_clock_at(rt, purge_day), today=purge_day.date(), now=purge_day, dry_run=False)

    ring = json.loads((tmp_path / KEYRING).read_text())
    assert f"legal-{year}" in ring["destroyed"] and f"legal-{year + 1}" in ring["keys"]
    with _restored(live, make_app, tmp_path) as (fresh, printed):
        ended = f"conservation a pris fin en {year} : purgées le 1er février {year + 1}"
        assert ended in printed
        store = runtime(fresh).store
        assert not store.exists(invoice.sha256) and store.exists(later.sha256)
        with runtime(fresh).session_factory() as session:
            gone = session.get(Document, invoice.id)
            assert gone is not None and gone.purged_at is not None
