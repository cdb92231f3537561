"""Benchmark: issuing invoices end to end (number, PDF/A-3b + Factur-X, archive), the
service's path against a naive loop, in the same run, on the same data.

* naive: per invoice, one transaction issues it, then its full HTML (stylesheet and fonts
  inline) is rendered by WeasyPrint from scratch, the XML checked against the XSD loaded
  from disk, the Factur-X PDF archived in a second transaction;
* service: the invoices are issued (one short transaction each: the number lock is held
  only for that) and handed as they are issued to ``app.invoices.production.PdfProducer``
  (what ``paraphe invoices run`` uses): a pool of worker processes started up front, each
  keeping one ``InvoiceRenderer`` (sandboxed environment, stylesheet and fonts compiled
  once, EN 16931 schema parsed once), fed by chunks; each chunk's PDFs are archived in one
  transaction while the next invoices are issued and rendered.

* queue (``--workers-processes N``, issue 14): what ``paraphe invoices run`` does now. The
  invoices are issued, one ``invoices.produce_pdf`` job each is enqueued on a SQLite broker,
  and ``paraphe worker --workers P`` (P = 1 … N, real subprocesses, each keeping its renderer)
  renders and archives them; timed from the enqueue of the batch to its last archived PDF,
  after a warm-up batch has started every worker process's renderer. Same run, same content.

Both paths produce the same content (same template, same CSS, same XML, same checks).
The last line printed is one JSON object (see docs/benchmarks.md).

Run from the repository root::

    .venv/bin/python bench/invoices.py [--quick] [--count N] [--workers W]
        [--workers-processes N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from app import migrate
from app.clients.services import ClientInput, create_client, get_client
from app.db import make_engine, make_session_factory, transaction
from app.invoices import issuing, pdfs
from app.invoices import tasks as invoice_tasks
from app.invoices.models import Invoice
from app.invoices.pdfs import Issued
from app.invoices.production import PdfProducer
from app.invoices.renderer import render_invoice_pdf_naive
from app.pricing.lines import LineInput
from app.queue import broker
from app.rendering.french import plural
from app.vendor_settings import VendorIdentity
from bench.scratch import stop_worker
from storage import BlobStore, FilesystemBlobStore

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LINES = [
    LineInput(
        "Abonnement Premium — décembre 2026", Decimal("12"), Decimal("100.00"), Decimal("20")
    ),
    LineInput("Remise de lancement", Decimal("1"), Decimal("-100.00"), Decimal("20")),
    LineInput("Journée de formation", Decimal("1.5"), Decimal("900.00"), Decimal("20")),
    LineInput("Guide d'utilisation imprimé", Decimal("1"), Decimal("10.00"), Decimal("5.5")),
]


def _issue(factory: sessionmaker[Session], client_id: int) -> int:
    with transaction(factory) as session:
        invoice = issuing.issue_invoice(
            session, client=get_client(session, client_id), lines=LINES, now=NOW, actor="bench"
        )
        return invoice.id


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the render workers): what
    a path costs whatever else runs on the machine (the wall-clock ratio depends on it)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def naive(
    factory: sessionmaker[Session],
    store: BlobStore,
    vendor: VendorIdentity,
    client_id: int,
    count: int,
) -> float:
    start = time.perf_counter()
    for _ in range(count):
        invoice_id = _issue(factory, client_id)
        with factory() as session:
            doc = pdfs.invoice_document(session, issuing.get_invoice(session, invoice_id), vendor)
        pdf = render_invoice_pdf_naive(doc)
        with transaction(factory) as session:
            pdfs.attach_pdf(session, store, Issued.INVOICE, invoice_id, pdf, now=NOW, actor="bench")
    return time.perf_counter() - start


def service(
    factory: sessionmaker[Session],
    store: BlobStore,
    vendor: VendorIdentity,
    client_id: int,
    count: int,
    workers: int,
) -> float:
    start = time.perf_counter()
    with PdfProducer(factory, store, vendor, NOW, workers=workers, actor="bench") as producer:
        for _ in range(count):
            producer.add(_issue(factory, client_id))
    assert producer.produced == count
    return time.perf_counter() - start


def _archived(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Invoice).where(Invoice.document_id.is_not(None))
            )
            or 0
        )


def _new_client(factory: sessionmaker[Session]) -> int:
    from tests.factories.sales import VALID_CLIENT

    with transaction(factory) as session:
        client = create_client(
            session,
            ClientInput(**VALID_CLIENT),
            actor="bench",
            now=NOW,
        )
        return client.id


def _enqueue_and_wait(
    factory: sessionmaker[Session], client_id: int, count: int, done_before: int
) -> float:
    """Issue ``count`` invoices, enqueue their PDF jobs, and wait for the workers to archive
    them all; the seconds from the first enqueue to the last PDF (issuing included, as in
    ``paraphe invoices run``)."""
    start = time.perf_counter()
    for _ in range(count):
        invoice_tasks.produce_pdf.enqueue(Issued.INVOICE.value, _issue(factory, client_id))
    deadline = start + 60 + 5 * count
    while _archived(factory) < done_before + count:
        if time.perf_counter() > deadline:
            raise SystemExit(f"les workers n'ont pas produit {count} PDF à temps")
        time.sleep(0.05)
    return time.perf_counter() - start


def through_queue(tmp: Path, count: int, processes: int) -> float:
    """Invoices per second through the job queue, with ``processes`` worker processes of a
    real ``paraphe worker`` on a SQLite broker (the embedded default)."""
    instance = Path(tmp) / f"queue-{processes}"
    instance.mkdir()
    url = f"sqlite:///{instance}/paraphe.db"
    queue_url = f"sqlite:///{instance}/queue.db"
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    client_id = _new_client(factory)
    broker.configure(queue_url, "bench")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "PARAPHE_INSTANCE_DIR": str(instance),
        "DATABASE_URL": url,
        "PARAPHE_QUEUE_URL": queue_url,
        "PARAPHE_QUEUE_NAME": "bench",
    }
    with (instance / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from app.console import main; main()",
                "worker",
                "--workers",
                str(processes),
                "--no-periodic",
            ],
            env=env,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            # Warm-up: every worker process imports WeasyPrint and builds its renderer.
            _enqueue_and_wait(factory, client_id, 2 * processes, 0)
            seconds = _enqueue_and_wait(factory, client_id, count, 2 * processes)
        finally:
            stop_worker(worker)
    engine.dispose()
    return count / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few invoices, seconds")
    parser.add_argument("--count", type=int, default=1000, help="invoices per path")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--workers-processes",
        type=int,
        default=0,
        help="also through the job queue with 1 … N `paraphe worker` processes",
    )
    args = parser.parse_args()
    count = 2 if args.quick else args.count
    vendor = VendorIdentity()
    with tempfile.TemporaryDirectory(prefix="paraphe-bench-invoices-") as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        store = FilesystemBlobStore(Path(tmp) / "blobs")
        client_id = _new_client(factory)
        cpu_0 = cpu_seconds()
        naive_s = naive(factory, store, vendor, client_id, count)
        cpu_1 = cpu_seconds()
        service_s = service(factory, store, vendor, client_id, count, args.workers)
        cpu_2 = cpu_seconds()
        engine.dispose()
        queue_rates = {
            processes: through_queue(Path(tmp), count, processes)
            for processes in range(1, args.workers_processes + 1)
        }
    naive_rate = count / naive_s
    service_rate = count / service_s
    print(f"{count} factures par chemin (PDF/A-3b + Factur-X + archive), {args.workers} processus")
    print(f"  boucle naïve : {naive_s:.1f} s, {naive_rate:.2f} factures/s")
    print(f"  service      : {service_s:.1f} s, {service_rate:.2f} factures/s")
    print(f"  rapport      : {service_rate / naive_rate:.2f} (objectif ≥ 3)")
    naive_cpu_ms = 1000 * (cpu_1 - cpu_0) / count
    service_cpu_ms = 1000 * (cpu_2 - cpu_1) / count
    print(f"  CPU par facture : naïve {naive_cpu_ms:.0f} ms, service {service_cpu_ms:.0f} ms")
    for processes, rate in queue_rates.items():
        print(f"  file, {plural(processes, 'worker', 'workers')} : {rate:.2f} factures/s")
    scaling = queue_rates[2] / queue_rates[1] if {1, 2} <= set(queue_rates) else None
    if scaling is not None:
        print(f"  file, 2 workers / 1 worker : {scaling:.2f} (objectif ≥ 1,8)")
    print(f"  charge moyenne (1 min) à la fin : {os.getloadavg()[0]:.1f}")
    print(
        json.dumps(
            {
                "bench": "invoices",
                "count": count,
                "workers": args.workers,
                "naive_per_s": round(naive_rate, 3),
                "service_per_s": round(service_rate, 3),
                "ratio": round(service_rate / naive_rate, 3),
                "naive_cpu_ms": round(naive_cpu_ms, 1),
                "service_cpu_ms": round(service_cpu_ms, 1),
                "goal_ratio": 3,
                "queue_per_s": {str(p): round(r, 3) for p, r in queue_rates.items()},
                "queue_scaling_2_over_1": round(scaling, 3) if scaling is not None else None,
                "goal_queue_scaling": 1.8,
            }
        )
    )


if __name__ == "__main__":
    main()
