"""Benchmark: publishing a CGV version to N active clients (issue 14).

A throw-away instance (SQLite in a temporary folder, its queue a SQLite file beside it; or the
PostgreSQL server of DATABASE_URL, in a database created for the run and dropped after, which
is the broker too) gets N active clients inserted in bulk. A legal user submits the
publication form (Flask's test client, in this process): the request time is measured. Then a
real `paraphe worker` (subprocess, already started and idle) renders the PDF/A, fans out and
mails every client (outbox: one fsynced .eml per mail). Measured in the same run, one version
each: with 1 worker process, then with 2. Notifications per second are counted from the
publication's response to the moment every notification is stamped sent (polled every
0.05 s): the fan-out is in, the worker's start is not (it is idle before).

Run from the repository root::

    .venv/bin/python bench/cgv_notify.py [--quick] [--clients N]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/cgv_notify.py
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from flask import Flask
from flask.testing import FlaskClient

from bench.scratch import instance_env, paraphe_worker, scratch_database

BODY = "# CGV\n\n## Article 1. Objet\n\nLe service.\n\n## Article 2. Prix\n\n100 € par mois.\n"


def _publish(browser: FlaskClient, label: str) -> tuple[float, int, float]:
    """Publish as legal does: submit the text, wait for its preview (the worker renders the
    PDF), then publish what the preview showed. Only the publication's request is timed: it
    is the one that fans out to every client."""
    from tests.conftest import csrf_from
    from tests.integration.helpers import PREVIEW_HASH

    page = browser.get("/cgv/nouvelle")
    data = {
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "source_format": "markdown",
        "label": label,
        "title": "Conditions générales de vente",
        "effective_date": "2024-01-01",
        "kind": "material",
        "summary": "Nouveau prix.",
        "body_markdown": BODY.replace("100", str(100 + len(label))),
    }
    submitted = browser.post("/cgv/nouvelle", data=data)
    if submitted.status_code != 302:
        sys.exit(f"texte refusé ({submitted.status_code}) :\n{submitted.get_data(True)}")
    preview_url = submitted.headers["Location"]
    deadline = time.monotonic() + 120
    html = browser.get(preview_url).get_data(as_text=True)
    while 'id="preview-pdf-link"' not in html and time.monotonic() < deadline:
        time.sleep(0.1)
        html = browser.get(preview_url).get_data(as_text=True)
    shown = PREVIEW_HASH.search(html)
    if shown is None:
        sys.exit(f"aperçu jamais prêt : {preview_url}")
    started = time.perf_counter()
    response = browser.post(
        f"{preview_url}/publier", data={"csrf_token": csrf_from(html), "sha256": shown[1]}
    )
    elapsed = time.perf_counter() - started
    published = time.monotonic()
    if response.status_code != 302:
        sys.exit(f"publication refusée ({response.status_code}) :\n{response.get_data(True)}")
    return elapsed, int(response.headers["Location"].rsplit("/", 1)[1]), published


def _rate(app: Flask, version_id: int, clients: int, published: float, timeout_s: float) -> float:
    """Notifications per second, from the publication's response (`published`, monotonic) to
    the moment every client's notification is stamped sent.

    Timed from the response rather than from the first row seen stamped: a job stamps its
    whole claimed batch with one `now`, and two workers can stamp all 200 quick-run rows
    between two polls, which left a span of zero (a rate of NaN) on a fast machine."""
    from app.clock import business_date
    from app.db import utcnow
    from app.terms.planning import progress_of

    factory = app.extensions["paraphe"].session_factory
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with factory() as session:
            progress = progress_of(session, [version_id], business_date(utcnow()))[version_id]
        if progress.done and progress.notified > 0:
            if progress.notified != clients or progress.total != clients:
                sys.exit(f"{progress.notified} notifiés sur {progress.total}, {clients} attendus")
            return clients / (time.monotonic() - published)
        time.sleep(0.05)
    sys.exit(f"notification inachevée après {timeout_s:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 clients, to prove it runs")
    parser.add_argument("--clients", type=int, default=10_000)
    args = parser.parse_args()
    clients = 200 if args.quick else args.clients

    with (
        tempfile.TemporaryDirectory(prefix="paraphe-cgv-") as tmp,
        scratch_database(Path(tmp), "bench_cgv") as url,
    ):
        env = instance_env(Path(tmp), url)
        instance = Path(env["PARAPHE_INSTANCE_DIR"])

        from app import migrate
        from app.auth.models import Role
        from app.db import utcnow
        from app.factory import create_app
        from tests.factories import login_as
        from tests.factories.bulk_clients import seed_active_clients

        migrate.upgrade(url)
        app = create_app()
        env["PARAPHE_SECRET_KEY"] = app.extensions["paraphe"].settings.secret_key
        started = time.perf_counter()
        seed_active_clients(app.extensions["paraphe"].session_factory, clients, utcnow())
        print(f"{clients} clients insérés en {time.perf_counter() - started:.2f} s ({url[:10]}…)")
        legal = login_as(app, Role.LEGAL)
        timeout = 120 + clients / 5

        results: dict[int, tuple[float, float]] = {}
        for workers in (1, 2):
            with paraphe_worker(env, workers, instance / f"worker-{workers}.log"):
                request_s, version_id, published = _publish(legal, f"{workers}.0")
                rate = _rate(app, version_id, clients, published, timeout)
            results[workers] = (request_s, rate)
            print(
                f"{workers} processus : requête de publication {request_s * 1000:.0f} ms, "
                f"{rate:.1f} notifications/s"
            )
        app.extensions["paraphe"].engine.dispose()

    speedup = results[2][1] / results[1][1]
    print(f"accélération avec 2 processus : {speedup:.2f}× (objectif ≥ 1,8×)")
    print(
        json.dumps(
            {
                "bench": "cgv_notify",
                "clients": clients,
                "database": "postgresql" if url.startswith("postgresql") else "sqlite",
                "request_ms": round(max(r[0] for r in results.values()) * 1000, 1),
                "per_second_1_worker": round(results[1][1], 1),
                "per_second_2_workers": round(results[2][1], 1),
                "speedup": round(speedup, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
