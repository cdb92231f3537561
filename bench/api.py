"""Benchmark: the archivist API under concurrent load, on PostgreSQL.

Setup (not timed): a throw-away PostgreSQL database (from DATABASE_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres), migrated with Alembic, holding N
documents spread over 1,000 clients and every kind; one read token.
Server: `paraphe serve`'s command (granian, WSGI, 2 workers × 4 threads) on 127.0.0.1.
Load: C concurrent clients (one asyncio loop, one keep-alive HTTP connection each) for D
seconds, each alternating a filtered list (`client_id` + `kind`, sorted by -created_at,
limit 50) and a metadata read of a random document. Reported: p50/p95 per request type,
requests per second.

    .venv/bin/python bench/api.py [--quick] [--docs N] [--clients C] [--seconds D]

The last line printed is one JSON object (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import insert, text

from app.cli import server_argv
from tests.loopback import free_port

CLIENTS_IN_DB = 1000


def _seed(url: str, docs: int) -> str:
    from app import migrate
    from app.auth.models import Scope
    from app.auth.services import create_api_token
    from app.clients.models import Client, ClientStatus
    from app.db import make_engine, make_session_factory
    from app.documents.models import Document, DocumentKind

    migrate.upgrade(url)
    engine = make_engine(url)
    t0 = datetime(2020, 1, 1, tzinfo=UTC)
    kinds = list(DocumentKind)
    rng = random.Random(42)
    with make_session_factory(engine)() as session:
        session.execute(
            insert(Client),
            [
                {
                    "legal_name": f"Client {i}",
                    "siren": "552100554",
                    "address": "1 rue du Banc",
                    "postal_code": "75001",
                    "city": "Paris",
                    "country": "FR",
                    "signer_name": "Contact",
                    "signer_email": f"c{i}@example.test",
                    "status": ClientStatus.ACTIVE,
                    "created_at": t0,
                }
                for i in range(CLIENTS_IN_DB)
            ],
        )
        batch = []
        for index in range(docs):
            batch.append(
                {
                    "kind": kinds[index % len(kinds)],
                    "client_id": 1 + index % CLIENTS_IN_DB,
                    "reference": f"DOC-{index:07d}",
                    "version": 1,
                    "sha256": f"{rng.getrandbits(256):064x}",
                    "size": rng.randint(10_000, 500_000),
                    "media_type": "application/pdf",
                    "filename": f"DOC-{index:07d}.pdf",
                    "created_at": t0 + timedelta(minutes=index),
                    "retention_basis": "banc d'essai",
                    "legal_hold": False,
                }
            )
            if len(batch) == 5000:
                session.execute(insert(Document), batch)
                batch = []
        if batch:
            session.execute(insert(Document), batch)
        _token, plaintext = create_api_token(
            session, name="bench", scopes=[Scope.READ], now=datetime.now(UTC)
        )
        session.commit()
    # Statistics and the visibility map now, not by autovacuum in the middle of the timed
    # run (100,000 fresh rows pass its insert threshold): a database in service is vacuumed.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return plaintext


def _wait(port: int, token: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/documents?limit=1", headers={"Authorization": token})
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


async def _get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, token: str
) -> int:
    """One GET on a keep-alive connection; the status code (the body is read and dropped)."""
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {token}\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def _client(
    port: int, token: str, docs: int, seed: int, stop: float, out: dict[str, list[float]]
) -> int:
    """One simulated client: its own connection, a list then a read, until `stop`."""
    rng = random.Random(seed)
    kinds = ["contract", "signed_contract", "invoice", "quote", "evidence"]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    failed = 0
    while time.monotonic() < stop:
        for kind_of in ("list", "read"):
            if kind_of == "list":
                path = (
                    f"/api/v1/documents?client_id={rng.randint(1, CLIENTS_IN_DB)}"
                    f"&kind={rng.choice(kinds)}&sort=-created_at&limit=50"
                )
            else:
                path = f"/api/v1/documents/{rng.randint(1, docs)}"
            started = time.perf_counter()
            status = await _get(reader, writer, path, token)
            out[kind_of].append(time.perf_counter() - started)
            failed += status != 200
    writer.close()
    return failed


def _load(
    port: int, token: str, docs: int, clients: int, seconds: float
) -> tuple[list[float], list[float], int]:
    """`clients` concurrent keep-alive connections driven by one asyncio loop: a load
    generator that costs ~1/4 of the CPU of one thread per client (it shares the 2 cores
    with the server and PostgreSQL), and whose clocks are read as soon as a response is
    complete, not after waiting for the GIL behind 49 other threads."""

    async def run() -> tuple[list[float], list[float], int]:
        out: dict[str, list[float]] = {"list": [], "read": []}
        stop = time.monotonic() + seconds
        failures = await asyncio.gather(
            *(_client(port, token, docs, i, stop, out) for i in range(clients))
        )
        return out["list"], out["read"], sum(failures)

    return asyncio.run(run())


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 documents, 5 clients, 3 s")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--threads", type=int, default=4, help="application threads per worker")
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="keep the application's access log on (off by default, as behind a reverse proxy "
        "that keeps its own)",
    )
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    args = parser.parse_args()
    if args.quick:
        args.docs, args.clients, args.seconds = 2000, 5, 3
    base = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    from tests.throwaway_postgres import throwaway_database

    server = None
    with throwaway_database(base, f"paraphe_bench_{uuid.uuid4().hex[:8]}") as url:
        try:
            token = "Bearer " + _seed(url, args.docs)
            port = free_port()
            with tempfile.TemporaryDirectory(prefix="bench-api-") as instance:
                env = {
                    **os.environ,
                    "DATABASE_URL": url,
                    "PARAPHE_INSTANCE_DIR": instance,
                    "PYTHONPATH": str(REPO_ROOT),
                    "PARAPHE_ACCESS_LOG": "1" if args.access_log else "0",
                }
                # The production server, started as `paraphe serve` starts it.
                argv = server_argv("127.0.0.1", port, args.workers, args.threads)
                # Its access log (one line per request, as in production) is not shown.
                server = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stderr=subprocess.DEVNULL)
                _wait(port, token)
                _load(port, token, args.docs, args.clients, 1)  # warm-up
                started = time.perf_counter()
                lists, reads, errors = _load(port, token, args.docs, args.clients, args.seconds)
                elapsed = time.perf_counter() - started
        finally:
            # Before the drop: the server's connections would hold the database open.
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
    total = len(lists) + len(reads)
    summary = {
        "bench": "api",
        "docs": args.docs,
        "clients": args.clients,
        "list_p50_ms": round(_pct(lists, 0.50), 1),
        "list_p95_ms": round(_pct(lists, 0.95), 1),
        "read_p50_ms": round(_pct(reads, 0.50), 1),
        "read_p95_ms": round(_pct(reads, 0.95), 1),
        "req_per_s": round(total / elapsed, 1),
        "errors": errors,
    }
    print(
        f"{args.docs} documents, {args.clients} clients, {elapsed:.1f} s, {total} requests "
        f"({summary['req_per_s']} req/s, {errors} errors)"
    )
    print(
        f"filtered list: p50 {summary['list_p50_ms']} ms, p95 {summary['list_p95_ms']} ms; "
        f"metadata read: p50 {summary['read_p50_ms']} ms, p95 {summary['read_p95_ms']} ms; "
        f"mean {statistics.fmean(lists + reads) * 1000:.1f} ms"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
