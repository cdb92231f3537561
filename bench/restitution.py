"""Benchmark: writing a client's restitution archive, against `zip -0 -r` on the same files.

Setup (not timed): a throw-away instance (SQLite database migrated with Alembic, filesystem
blob store, development seal key) with one client owning N documents of S bytes of random
(incompressible) content, as rows in `documents` and blobs in the store.

Timed, in a fresh child process per run (so that its peak RSS is the archive's alone):
`app.archive.restitution.assembly.write_restitution` streams every blob into a ZIP64 file,
hashes it on the way, writes index.csv, the journal excerpt, the manifest and seals it
(detached CMS). Baseline, same run, same files: `zip -0 -r -q` of the blob store directory
(the same bytes).

Two runs: N documents, then 10 × N documents (of S / 10 bytes each unless --full-10x, to keep
the disk use bounded): the peak memory must not grow with the number of documents.

    .venv/bin/python bench/restitution.py [--quick] [--docs N] [--size BYTES] [--full-10x]

The last line printed is one JSON object (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def _setup(root: Path, docs: int, size: int) -> None:
    from sqlalchemy import insert

    from app import migrate
    from app.clients.models import Client, ClientStatus
    from app.db import make_engine, make_session_factory
    from app.documents.models import Document, DocumentKind
    from storage import FilesystemBlobStore

    url = f"sqlite:///{root / 'paraphe.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    store = FilesystemBlobStore(root / "blobs")
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    factory = make_session_factory(engine)
    with factory() as session:
        client = Client(
            legal_name="Banc d'essai SAS",
            siren="552100554",
            address="1 rue du Banc",
            postal_code="75001",
            city="Paris",
            signer_name="Contact Essai",
            signer_email="essai@example.test",
            status=ClientStatus.TERMINATED,
            terminated_on=now.date(),
            created_at=now,
        )
        session.add(client)
        session.flush()
        rows = []
        kinds = [DocumentKind.CONTRACT, DocumentKind.INVOICE, DocumentKind.EVIDENCE]
        for index in range(docs):
            ref = store.put(os.urandom(size))
            rows.append(
                {
                    "kind": kinds[index % 3],
                    "client_id": client.id,
                    "reference": f"DOC-{index:06d}",
                    "version": 1,
                    "sha256": ref.sha256,
                    "size": ref.size,
                    "media_type": "application/pdf",
                    "filename": f"DOC-{index:06d}.pdf",
                    "created_at": now,
                    "retention_basis": "banc d'essai",
                    "legal_hold": False,
                }
            )
        session.execute(insert(Document), rows)
        session.commit()
    engine.dispose()


def _child(root: Path, out: Path) -> None:
    """Runs in its own process: write the archive, report time and peak RSS."""
    from sqlalchemy import select

    from app.archive.restitution.assembly import write_restitution
    from app.archive.restitution.contents import client_identity
    from app.clients.models import Client
    from app.db import make_engine, make_session_factory, transaction
    from signing import ensure_dev_pki, load_pkcs12
    from storage import FilesystemBlobStore

    engine = make_engine(f"sqlite:///{root / 'paraphe.db'}")
    store = FilesystemBlobStore(root / "blobs")
    pki = ensure_dev_pki(root.parent / "pki")
    key = load_pkcs12(pki.pkcs12_path, pki.passphrase)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        client = client_identity(session, session.scalars(select(Client.id)).one())
    started = time.perf_counter()
    with open(out, "wb") as fh:
        entries = write_restitution(
            lambda: transaction(factory),
            store,
            client,
            fh,
            now=datetime.now(UTC),
            actor="bench",
            seal_key=key,
            trust_roots=[pki.root_cert_pem],
        ).paths
        fh.flush()
        os.fsync(fh.fileno())
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "peak_rss_mb": peak / 1024,
                "rss_before_mb": before / 1024,
                "files": len(entries),
            }
        )
    )


def _run(work: Path, docs: int, size: int) -> dict[str, float]:
    root = work / f"n{docs}"
    root.mkdir()
    _setup(root, docs, size)
    ours_zip = root / "ours.zip"
    child = subprocess.run(
        [sys.executable, __file__, "--child", str(root), str(ours_zip)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    ours = json.loads(child.stdout.strip().splitlines()[-1])
    baseline_zip = root / "baseline.zip"
    started = time.perf_counter()
    subprocess.run(
        ["zip", "-0", "-r", "-q", str(baseline_zip), "."],
        cwd=root / "blobs",
        check=True,
    )
    with open(baseline_zip, "rb") as fh:
        os.fsync(fh.fileno())
    baseline = time.perf_counter() - started
    total_mb = docs * size / 1e6
    result = {
        "docs": docs,
        "doc_kb": size / 1000,
        "total_mb": total_mb,
        "ours_s": ours["seconds"],
        "zip_s": baseline,
        "ours_mb_s": total_mb / ours["seconds"],
        "zip_mb_s": total_mb / baseline,
        "ratio": baseline / ours["seconds"],
        "peak_rss_mb": ours["peak_rss_mb"],
        "rss_before_mb": ours["rss_before_mb"],
        "archive_files": ours["files"],
    }
    shutil.rmtree(root)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 documents of 30 KB")
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--size", type=int, default=300_000)
    parser.add_argument("--full-10x", action="store_true", help="10 × N documents of S bytes")
    parser.add_argument("--child", nargs=2, metavar=("ROOT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(Path(args.child[0]), Path(args.child[1]))
        return
    docs, size = (20, 30_000) if args.quick else (args.docs, args.size)
    with tempfile.TemporaryDirectory(prefix="bench-restitution-") as tmp:
        work = Path(tmp)
        base = _run(work, docs, size)
        scaled = _run(work, docs * 10, size if args.full_10x else size // 10)
    for label, run in (("N", base), ("10 × N", scaled)):
        print(
            f"{label:7} {run['docs']:6d} docs × {run['doc_kb']:.0f} KB = {run['total_mb']:.0f} MB: "
            f"ours {run['ours_s']:.2f} s ({run['ours_mb_s']:.0f} MB/s), zip -0 -r "
            f"{run['zip_s']:.2f} s ({run['zip_mb_s']:.0f} MB/s), ratio {run['ratio']:.2f}; "
            f"peak RSS {run['peak_rss_mb']:.0f} MB (after imports {run['rss_before_mb']:.0f} MB)"
        )
    print(
        json.dumps(
            {
                "bench": "restitution",
                "docs": base["docs"],
                "doc_kb": base["doc_kb"],
                "ratio": round(base["ratio"], 3),
                "ours_mb_s": round(base["ours_mb_s"], 1),
                "zip_mb_s": round(base["zip_mb_s"], 1),
                "peak_rss_mb": round(base["peak_rss_mb"], 1),
                "peak_rss_10x_mb": round(scaled["peak_rss_mb"], 1),
                "docs_10x": scaled["docs"],
                "doc_kb_10x": scaled["doc_kb"],
            }
        )
    )


if __name__ == "__main__":
    main()
