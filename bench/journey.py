"""Benchmark: whole journeys over HTTP, as people make them (issue 14).

Each journey is a sales user who logs in, creates a client and a quote, generates the contract
(with the real CGV) and sends it; then the client's signer and the sales user (the vendor's
countersigner) each open their link, ask for a one-time code, type it (read from the outbox)
and sign; the sales user then waits for the sealed PDF. N journeys run at once (one thread
each, one address each as a trusted proxy reports it, so that the rate limits count people,
not the load generator), against `paraphe serve` (granian, 2 processes × 4 threads) on
loopback, twice in the same run:

- inline: PARAPHE_QUEUE_URL=inline, each signer's signature (and the seal after the last one)
  runs in the signer's request;
- queue: the signature and the seal are jobs in the database's own broker (PostgreSQL, or
  SQLite), run by one `paraphe worker` process.

Reported per mode: p50/p95 of every step (the request alone, a redirect is not followed), and
the time from the answer to the last signature to the sealed PDF being downloadable (polled
every 0.5 s by the sales user: at 100 ms, 20 pollers were a load of their own). PostgreSQL
from DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres) in a
throw-away database; SQLite in a temporary folder, with a printed note, if PostgreSQL cannot
be reached. `--job-workers` sets the processes of the one `paraphe worker` (default 1).

    .venv/bin/python bench/journey.py [--quick] [--journeys N]

The last line printed is one JSON object (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.cli import server_argv
from app.rendering.french import plural
from tests.loopback import free_port

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
POLL_STEP = "GET /contrats/<id>/v1/signe.pdf (attente)"
SIGN_STEP = "POST /signature/<token>"
GOALS = {"sign_post_p95_ms": 300, "page_p95_ms": 500, "seal_p95_s": 5}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _postgres(base_url: str) -> str | None:
    """base_url if PostgreSQL answers there, else None."""
    if not base_url.startswith("postgresql"):
        return None
    try:
        engine = create_engine(make_url(base_url).set(database="postgres"))
        with engine.connect():
            pass
        engine.dispose()
    except OperationalError:
        return None
    return base_url


@contextmanager
def _database(pg: str | None, folder: Path, mode: str) -> Iterator[str]:
    """A throw-away database for one mode: a new PostgreSQL database, or a SQLite file."""
    if pg is None:
        yield f"sqlite:///{folder / 'paraphe.db'}"
        return
    from tests.throwaway_postgres import throwaway_database

    with throwaway_database(pg, f"paraphe_bench_journey_{mode}_{os.getpid()}") as url:
        yield url


def _seed(env: dict[str, str], journeys: int, *, short_cgv: bool) -> None:
    """Migrate, publish the CGV (the real ones, or a one-page text for --quick), create one
    sales user per journey and the seal key."""
    from app import migrate
    from app.auth.models import Role
    from app.config import Settings
    from app.factory import create_app
    from tests.factories import make_user, publish_cgv, publish_short_cgv
    from tests.factories.db import runtime
    from tests.shared_fixtures import CGV_FIXTURE  # ../shared, never copied

    migrate.upgrade(env["DATABASE_URL"])
    app = create_app(Settings.from_env(env))
    if short_cgv:
        publish_short_cgv(app)
    else:
        publish_cgv(app, CGV_FIXTURE.read_text(encoding="utf-8"))
    for index in range(journeys):
        make_user(app, Role.SALES, f"commercial{index}@paraphe.test")
    runtime(app).signing_key()  # the development PKI, made once before the servers start
    runtime(app).engine.dispose()


def _wait_up(base: str, server: subprocess.Popen[bytes], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), timeout=2)
            conn.request("GET", "/connexion")
            if conn.getresponse().status == 200:
                return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("le serveur n'a pas démarré") from None
            time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _run_journeys(base: str, outbox: Path, count: int, first: int) -> tuple[list[Any], list[str]]:
    """`count` journeys at once, numbered from `first`: their results and their failures."""
    from tests.factories import PASSWORD
    from tests.integration.http_journey import Browser, journey

    results: list[Any] = []
    failures: list[str] = []
    start = threading.Barrier(count)
    lock = threading.Lock()

    def one(index: int) -> None:
        number = first + index
        address = f"198.51.{100 + number // 250}.{1 + number % 250}"
        sales = Browser(base, forwarded_for=address)
        start.wait()
        try:
            done = journey(
                sales,
                lambda: Browser(base, forwarded_for=address, timings=sales.timings),
                outbox,
                number=number,
                password=PASSWORD,
                sales_email=f"commercial{number}@paraphe.test",
                signer_email=f"signataire{number}@example.fr",
                poll=0.5,
            )
        except Exception:  # a failed journey is counted and shown, the others go on
            with lock:
                failures.append(traceback.format_exc(limit=3))
            return
        with lock:
            results.append((done, sales.timings))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, failures


def run_mode(
    mode: str, pg: str | None, journeys: int, *, quick: bool, job_workers: int
) -> dict[str, Any]:
    warm_up = not quick
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-journey-{mode}-") as tmp,
        _database(pg, Path(tmp), mode) as url,
    ):
        folder = Path(tmp)
        port = free_port()
        if mode == "inline":
            queue = "inline"
        else:
            queue = url if pg is not None else f"sqlite:///{folder / 'queue.db'}"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "PARAPHE_INSTANCE_DIR": str(folder),
            "PARAPHE_BASE_URL": f"http://127.0.0.1:{port}",
            "PARAPHE_QUEUE_URL": queue,
            "PARAPHE_QUEUE_NAME": f"bench-{os.getpid()}",
            "PARAPHE_TRUSTED_PROXIES": "1",  # the load generator plays the reverse proxy
            "PARAPHE_ACCESS_LOG": "0",
            "PYTHONPATH": str(REPO_ROOT),
        }
        users = journeys + (1 if warm_up else 0)
        _seed(env, users, short_cgv=quick)
        server = subprocess.Popen(
            server_argv("127.0.0.1", port, 2, 4), cwd=REPO_ROOT, env=env, stderr=subprocess.DEVNULL
        )
        worker = None
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_up(base, server)
            if mode == "queue":
                paraphe = Path(sys.executable).parent / "paraphe"
                log = (folder / "worker.log").open("ab")
                worker = subprocess.Popen(
                    [str(paraphe), "worker", "--workers", str(job_workers)],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                log.close()
            outbox = folder / "outbox"
            if warm_up:
                # One journey first, not timed: each server process lays out the CGV pages
                # once (~1.5 s), as it does after any restart.
                _run_journeys(base, outbox, 1, users - 1)
            started = time.perf_counter()
            results, failures = _run_journeys(base, outbox, journeys, 0)
            elapsed = time.perf_counter() - started
        finally:
            if worker is not None:
                _stop(worker)
            _stop(server)
    steps: dict[str, list[float]] = {}
    for _done, timings in results:
        for step, values in timings.items():
            steps.setdefault(step, []).extend(values)
    seal = [done.sealed_at - done.last_signature_at for done, _t in results]
    return {"steps": steps, "seal": seal, "failures": failures, "elapsed": elapsed}


def _summary(mode: str, measured: dict[str, Any]) -> dict[str, float | int]:
    steps: dict[str, list[float]] = measured["steps"]
    pages = [
        v
        for step, values in steps.items()
        if step.startswith("GET") and step != POLL_STEP
        for v in values
    ]
    seal: list[float] = measured["seal"] or [float("nan")]
    return {
        f"{mode}_sign_p95_ms": round(_pct(steps.get(SIGN_STEP, [float("nan")]), 0.95) * 1000, 1),
        f"{mode}_page_p95_ms": round(_pct(pages or [float("nan")], 0.95) * 1000, 1),
        f"{mode}_page_max_step_p95_ms": round(
            max(
                _pct(values, 0.95)
                for step, values in steps.items()
                if step.startswith("GET") and step != POLL_STEP
            )
            * 1000,
            1,
        )
        if pages
        else float("nan"),
        f"{mode}_seal_p50_s": round(_pct(seal, 0.50), 2),
        f"{mode}_seal_p95_s": round(_pct(seal, 0.95), 2),
        f"{mode}_errors": len(measured["failures"]),
        f"{mode}_wall_s": round(measured["elapsed"], 1),
    }


def _print_mode(mode: str, measured: dict[str, Any]) -> None:
    failed = plural(len(measured["failures"]), "échec", "échecs")
    print(f"== {mode} ({measured['elapsed']:.1f} s, {failed}) ==")
    for step, values in measured["steps"].items():
        print(
            f"  {step:<48} n={len(values):<4} p50 {_pct(values, 0.5) * 1000:7.1f} ms"
            f"   p95 {_pct(values, 0.95) * 1000:7.1f} ms"
        )
    if measured["seal"]:
        print(
            "  dernière signature → PDF scellé téléchargeable : "
            f"p50 {_pct(measured['seal'], 0.5):.2f} s, p95 {_pct(measured['seal'], 0.95):.2f} s"
        )
    for failure in measured["failures"][:3]:
        print("  échec :", failure.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="2 journeys, a one-page CGV, no warm-up"
    )
    parser.add_argument("--journeys", type=int, default=20)
    parser.add_argument(
        "--job-workers", type=int, default=1, help="processes of the one `paraphe worker`"
    )
    parser.add_argument(
        "--mode",
        choices=("both", "inline", "queue"),
        default="both",
        help="the two modes in one run (default), or one of them",
    )
    args = parser.parse_args()
    journeys = 2 if args.quick else args.journeys
    pg = _postgres(os.environ.get("DATABASE_URL", DEFAULT_PG))
    if pg is None:
        print(
            "Note : DATABASE_URL ne désigne pas un PostgreSQL joignable ; le banc tourne sur "
            "SQLite (base et file de travaux dans un dossier temporaire)."
        )
    database = "postgresql" if pg else "sqlite"
    summary: dict[str, Any] = {
        "bench": "journey",
        "journeys": journeys,
        "database": database,
        "job_workers": args.job_workers,
    }
    for mode in ("inline", "queue") if args.mode == "both" else (args.mode,):
        measured = run_mode(mode, pg, journeys, quick=args.quick, job_workers=args.job_workers)
        _print_mode(mode, measured)
        summary.update(_summary(mode, measured))
    print(
        f"Objectifs : POST de signature p95 ≤ {GOALS['sign_post_p95_ms']} ms, pages p95 ≤ "
        f"{GOALS['page_p95_ms']} ms, dernière signature → PDF scellé p95 ≤ {GOALS['seal_p95_s']} s"
        " avec un worker (file)."
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
