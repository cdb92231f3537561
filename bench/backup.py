"""Benchmark: backups of 10,000 documents (issue 17).

A throw-away instance (SQLite in a temporary folder, or the PostgreSQL server of DATABASE_URL
in a database created for the run and dropped after, dumped by pg_dump) gets 50 clients and N
documents of 20 kB each (random bytes: incompressible, as PDFs mostly are), deposited as the
features do (blob first, then the row, journaled). Measured, in this process, with the same
functions `paraphe backup` and `paraphe restore` run:

- the full backup (every copy encrypted and written to a folder target): time and size;
- an incremental backup after 1 % new documents: time (goal: ≤ 5 % of the full one);
- the restore into a fresh instance (database and blobs, every hash checked, then the scrub
  and the journal's verification): the RTO figure.

Run from the repository root::

    .venv/bin/python bench/backup.py [--quick] [--documents N]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/backup.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from flask import Flask

from bench.scratch import scratch_database

DOC_BYTES = 20_000


def _deposit(app: Flask, start: int, count: int, clients: list[int]) -> None:
    from app.db import transaction, utcnow
    from app.documents.models import DocumentKind
    from app.documents.services import deposit

    rt = app.extensions["paraphe"]
    for first in range(start, start + count, 500):
        with transaction(rt.session_factory) as session:
            for n in range(first, min(first + 500, start + count)):
                deposit(
                    session,
                    rt.store,
                    kind=DocumentKind.QUOTE,
                    client_id=clients[n % len(clients)],
                    reference=f"DEV-BENCH-{n:06d}",
                    version=1,
                    data=os.urandom(DOC_BYTES),
                    media_type="application/pdf",
                    filename=f"DEV-BENCH-{n:06d}.pdf",
                    now=utcnow(),
                    actor="bench",
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 documents (CI)")
    parser.add_argument("--documents", type=int, default=None)
    args = parser.parse_args()
    documents = args.documents or (200 if args.quick else 10_000)
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as work:
        root = Path(work)
        (root / "live").mkdir()
        (root / "fresh").mkdir()
        with (
            scratch_database(root / "live", "bench_backup_live") as url,
            scratch_database(root / "fresh", "bench_backup_fresh") as fresh,
        ):
            print(json.dumps(_run(root, url, fresh, documents)))


def _run(root: Path, url: str, fresh_url: str, documents: int) -> dict[str, object]:
    from sqlalchemy import select

    from app import migrate
    from app.backups.restore import restore
    from app.backups.workflow import backup
    from app.clients.models import Client
    from app.config import Settings
    from app.db import utcnow
    from app.factory import create_app
    from app.rendering.french import plural
    from tests.factories.bulk_clients import seed_active_clients

    env = {
        "PARAPHE_INSTANCE_DIR": str(root / "live"),
        "DATABASE_URL": url,
        "PARAPHE_QUEUE_URL": "inline",
        "PARAPHE_BACKUP_URL": str(root / "target"),
        "PARAPHE_BACKUP_KEYRING": str(root / "keyring.json"),
    }
    os.environ.update(env)
    migrate.upgrade(url)
    settings = Settings.from_env()
    app = create_app(settings)
    rt = app.extensions["paraphe"]
    seed_active_clients(rt.session_factory, 50, utcnow())
    with rt.session_factory() as session:
        clients = list(session.scalars(select(Client.id)))
    started = time.perf_counter()
    _deposit(app, 0, documents, clients)
    print(f"{documents} documents déposés en {time.perf_counter() - started:.1f} s")

    rt.signing_key()  # loaded (the dev PKI created) once per process, not part of a backup
    started = time.perf_counter()
    full = backup(rt.collaborators(utcnow()), slot="complete").done
    full_s = time.perf_counter() - started
    assert full is not None
    size = sum(p.stat().st_size for p in (root / "target").rglob("*") if p.is_file())
    print(f"sauvegarde complète : {full_s:.2f} s, {size / 1e6:.1f} Mo à la cible")

    _deposit(app, documents, max(1, documents // 100), clients)
    started = time.perf_counter()
    incremental = backup(rt.collaborators(utcnow()), slot="incrementale").done
    incremental_s = time.perf_counter() - started
    assert incremental is not None
    ratio = incremental_s / full_s
    copies = plural(incremental.copied, "copie", "copies")
    print(
        f"sauvegarde incrémentale (+1 %) : {incremental_s:.2f} s, {copies}, "
        f"{100 * ratio:.1f} % de la complète (objectif ≤ 5 %)"
    )

    fresh_settings = replace(
        settings,
        instance_dir=root / "fresh",
        database_url=fresh_url,
        storage_dir=root / "fresh" / "blobs",
    )
    fresh = create_app(fresh_settings)
    started = time.perf_counter()
    report = restore(fresh.extensions["paraphe"].collaborators(utcnow()), str(root / "target"))
    restore_s = time.perf_counter() - started
    assert report.clean, (report.scrub, report.journal_problems)
    files = plural(report.restored_blobs, "fichier", "fichiers")
    print(f"restauration (RTO) : {restore_s:.2f} s, {files}, stockage et journal conformes")
    rt.engine.dispose()
    fresh.extensions["paraphe"].engine.dispose()
    return {
        "bench": "backup",
        "database": settings.database_backend,
        "documents": documents,
        "full_s": round(full_s, 3),
        "full_mb": round(size / 1e6, 2),
        "incremental_s": round(incremental_s, 3),
        "incremental_copied": incremental.copied,
        "incremental_ratio": round(ratio, 4),
        "restore_s": round(restore_s, 3),
        "restored": report.restored_blobs,
    }


if __name__ == "__main__":
    main()
