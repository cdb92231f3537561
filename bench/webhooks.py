"""Benchmark: webhook deliveries to 3 endpoints on loopback, one of them slow (issue 15).

A throw-away instance (SQLite in a temporary folder, its queue a SQLite file beside it; or the
PostgreSQL server of DATABASE_URL, in a database created for the run and dropped after, which
is the broker too) gets 3 endpoints subscribed to `quote.created`: two fast receivers and one
that answers after 200 ms (threaded `http.server` receivers in this process speaking HTTP/1.1
with keep-alive, as most receivers do, each POST stamped on arrival). Events are recorded at a
steady rate (default 200 per second, 10 per transaction, each commit enqueuing the dispatch as
a real change does) while a real `paraphe worker` (subprocess, started and idle beforehand)
fans them out and delivers them. Measured with 1 worker process, then with 2, in the same run:
deliveries per second (all endpoints, from the first event to the last delivery), and the delay
from each event's change (its `created_at`) to its arrival, p50/p95, on the fast endpoints and
on the slow one.

Run from the repository root::

    .venv/bin/python bench/webhooks.py [--quick] [--events N] [--rate R]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/webhooks.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from flask import Flask

from bench.scratch import instance_env, paraphe_worker, scratch_database
from tests.integration.webhook_receiver import Receiver, running_receiver

SLOW_S = 0.2
PER_COMMIT = 10
EVENT = "quote.created"


def _produce(app: Flask, first: int, count: int, rate: float) -> dict[str, float]:
    """Record `count` events at `rate` per second; each event's public id → its change time."""
    from app.db import transaction, utcnow
    from app.events.recording import Resource, record

    factory = app.extensions["paraphe"].session_factory
    changed: dict[str, float] = {}
    started = time.monotonic()
    for batch_start in range(first, first + count, PER_COMMIT):
        # Hold the pace: batch n leaves at n × PER_COMMIT / rate seconds.
        wait = started + (batch_start - first) / rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        with transaction(factory) as session:
            for n in range(batch_start, min(batch_start + PER_COMMIT, first + count)):
                now = utcnow()
                event = record(session, EVENT, Resource("quote", n), {"n": n}, now=now)
                changed[event.public_id] = now.timestamp()
    return changed


def _collect(
    receivers: dict[str, Receiver], changed: dict[str, float], timeout_s: float
) -> dict[str, list[float]]:
    """Wait until every endpoint got every event; the delays (s) per endpoint name."""
    deadline = time.monotonic() + timeout_s
    while True:
        delays: dict[str, list[float]] = {}
        for name, receiver in receivers.items():
            with receiver.lock:
                arrived = {
                    r.headers["webhook-id"]: r.at
                    for r in receiver.received
                    if r.headers["webhook-id"] in changed
                }
            delays[name] = [arrived[i] - changed[i] for i in arrived]
        if all(len(d) == len(changed) for d in delays.values()):
            return delays
        if time.monotonic() > deadline:
            got = {name: len(d) for name, d in delays.items()}
            sys.exit(f"livraisons inachevées après {timeout_s:.0f} s : {got} sur {len(changed)}")
        time.sleep(0.2)


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 events, to prove it runs")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0, help="events per second")
    args = parser.parse_args()
    events = 300 if args.quick else args.events

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="paraphe-hooks-")))
        url = stack.enter_context(scratch_database(tmp, "bench_hooks"))
        # the receivers are on loopback
        env = instance_env(tmp, url, PARAPHE_WEBHOOKS_ALLOW_PRIVATE="1")
        instance = Path(env["PARAPHE_INSTANCE_DIR"])

        from app import migrate
        from app.db import transaction, utcnow
        from app.factory import create_app
        from app.webhooks import endpoints
        from app.webhooks.endpoints import EndpointInput

        migrate.upgrade(url)
        app = create_app()
        env["PARAPHE_SECRET_KEY"] = app.extensions["paraphe"].settings.secret_key
        receivers = {
            "rapide-1": stack.enter_context(running_receiver(keep_alive=True)),
            "rapide-2": stack.enter_context(running_receiver(keep_alive=True)),
            "lent": stack.enter_context(running_receiver(delay_s=SLOW_S, keep_alive=True)),
        }
        with transaction(app.extensions["paraphe"].session_factory) as session:
            for name, receiver in receivers.items():
                endpoints.create(
                    session,
                    EndpointInput(url=receiver.url, event_types=[EVENT], description=name),
                    require_https=False,
                    now=utcnow(),
                    actor="bench",
                )
        print(f"{events} événements à {args.rate:.0f}/s vers 3 points de réception ({url[:10]}…)")

        results: dict[int, dict[str, float]] = {}
        for workers in (1, 2):
            with paraphe_worker(env, workers, instance / f"worker-{workers}.log"):
                started = time.time()
                changed = _produce(app, workers * 1_000_000, events, args.rate)
                produced_s = time.time() - started
                delays = _collect(receivers, changed, timeout_s=120 + events / 20)
            last = max(r.at for receiver in receivers.values() for r in receiver.received)
            fast = delays["rapide-1"] + delays["rapide-2"]
            results[workers] = {
                "rate": len(changed) / produced_s,
                "per_second": 3 * len(changed) / (last - started),
                "fast_p50": _p(fast, 50),
                "fast_p95": _p(fast, 95),
                "slow_p95": _p(delays["lent"], 95),
            }
            r = results[workers]
            print(
                f"{workers} processus : {r['rate']:.0f} événements/s produits, "
                f"{r['per_second']:.0f} livraisons/s ; délai changement → livraison, points "
                f"rapides p50 {r['fast_p50'] * 1000:.0f} ms, p95 {r['fast_p95'] * 1000:.0f} ms "
                f"(objectif ≤ 1 000 ms) ; point lent p95 {r['slow_p95'] * 1000:.0f} ms"
            )
        app.extensions["paraphe"].engine.dispose()

    print(
        json.dumps(
            {
                "bench": "webhooks",
                "events": events,
                "database": "postgresql" if url.startswith("postgresql") else "sqlite",
                "events_per_second": round(min(r["rate"] for r in results.values()), 1),
                "per_second_1_worker": round(results[1]["per_second"], 1),
                "per_second_2_workers": round(results[2]["per_second"], 1),
                "fast_p95_ms_1_worker": round(results[1]["fast_p95"] * 1000, 1),
                "fast_p95_ms_2_workers": round(results[2]["fast_p95"] * 1000, 1),
                "slow_p95_ms_1_worker": round(results[1]["slow_p95"] * 1000, 1),
                "slow_p95_ms_2_workers": round(results[2]["slow_p95"] * 1000, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
