"""Benchmark: `paraphe contracts bulk`, generating many contracts from the CLI (issue 3).

A throw-away instance (SQLite in a temporary folder) gets the real CGV fixture, a clause
from the library and N quotes of 20 lines each; then the operator command generates every
contract, each in its own transaction (number, PDF/A-3b render with the CGV pages laid out
once per process, archive deposit, audit entry), exactly as an operator would run it. The
command's own summary gives contracts per second; the bench also times the whole process
(start-up and imports included) and checks that N contracts exist.

Run from the repository root::

    .venv/bin/python bench/contracts_bulk.py [--quick] [--count N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import func, select

from app.auth.models import Role
from tests.shared_fixtures import CGV_FIXTURE  # ../shared, never copied

AUTHOR = "commercial@paraphe.test"
# What `paraphe contracts bulk --wait` prints: « 2 contrats générés en 2,1 s, soit 0,96 contrat
# par seconde » (the count and its noun joined by a no-break space, singular below 2).
SUMMARY = re.compile(
    r"(?P<n>\d+)\s+contrats? générés? en (?P<s>[\d\s,]+?)\s*s, "
    r"soit (?P<rate>[\d\s,]+?)\s+contrats? par seconde"
)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from app.console import main; main()", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def _prepare(env: dict[str, str], count: int) -> int:
    """CGV, author, a clause and ``count`` quotes; returns the clause version id."""
    os.environ.update(env)
    from app.auth.services import create_user
    from app.clauses.services import create_clause
    from app.clients.services import ClientInput, create_client
    from app.db import transaction, utcnow
    from app.factory import create_app
    from app.pricing.lines import LineInput
    from app.quotes.services import create_quote
    from tests.factories.sales import VALID_CLIENT, publish_cgv

    app = create_app()
    factory = app.extensions["paraphe"].session_factory
    now = utcnow()
    publish_cgv(app, CGV_FIXTURE.read_text(encoding="utf-8"))
    with transaction(factory) as session:
        create_user(
            session,
            email=AUTHOR,
            full_name="Camille Commerciale",
            role=Role.SALES,
            password=secrets.token_urlsafe(16),  # never used to log in
            now=now,
        )
        clause = create_clause(
            session,
            title="Réversibilité des données",
            body="{{ client_name }} récupère ses données au format CSV sous 30 jours.",
            now=now,
            actor="bench",
            author_id=None,
        )
        session.flush()
        clause_version = clause.versions[-1].id
    lines = [
        LineInput(
            f"Module {i} — licence annuelle",
            Decimal(i % 4 + 1),
            Decimal("1234.50") * i / 7 // Decimal("0.01") * Decimal("0.01"),
            Decimal("20") if i % 3 else Decimal("5.5"),
        )
        for i in range(1, 21)
    ]
    for i in range(count):
        with transaction(factory) as session:
            client = create_client(
                session,
                ClientInput(
                    **{
                        **VALID_CLIENT,
                        "legal_name": f"Client n° {i + 1} SAS",
                        "signer_email": f"signataire{i}@example.fr",
                    }
                ),
                confirm_duplicate=True,  # one company, many contracting entities: the bench's data
                actor="bench",
                now=now,
            )
            create_quote(
                session,
                client=client,
                lines=lines,
                particular_terms="Accompagnement au démarrage : 2 jours.",
                today=now.date(),
                now=now,
                actor="bench",
            )
    return clause_version


def _contracts(env: dict[str, str]) -> int:
    from app.contracts.models import Contract
    from app.factory import create_app

    app = create_app()
    with app.extensions["paraphe"].session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Contract)) or 0)


def _number(raw: str) -> float:
    return float(raw.replace(" ", "").replace("\u202f", "").replace("\u00a0", "").replace(",", "."))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 contracts, to prove it runs")
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    count = 2 if args.quick else args.count

    # The bench's own instance, on its embedded SQLite, whatever the calling shell points at.
    os.environ.pop("DATABASE_URL", None)
    with tempfile.TemporaryDirectory(prefix="paraphe-bulk-") as tmp:
        env = dict(os.environ)
        env["PARAPHE_INSTANCE_DIR"] = str(Path(tmp) / "instance")
        env["PYTHONPATH"] = str(REPO_ROOT)
        # One job per quote, run inline by the command itself (no worker): the figure stays
        # the generation's own, comparable with the earlier runs of this bench.
        env["PARAPHE_QUEUE_URL"] = "inline"
        upgrade = _cli(env, "db", "upgrade")
        if upgrade.returncode != 0:
            sys.exit(f"db upgrade a échoué :\n{upgrade.stderr}")
        clause_version = _prepare(env, count)

        started = time.perf_counter()
        run = _cli(
            env, "contracts", "bulk", "--wait", "--author", AUTHOR, "--clause", str(clause_version)
        )
        wall = time.perf_counter() - started
        if run.returncode != 0:
            sys.exit(f"contracts bulk a échoué ({run.returncode}) :\n{run.stdout}\n{run.stderr}")
        summary = SUMMARY.search(run.stdout)
        if summary is None:
            sys.exit(f"résumé introuvable dans la sortie :\n{run.stdout}")
        generated = int(summary["n"])
        in_db = _contracts(env)
        if generated != count or in_db != count:
            sys.exit(f"{generated} contrats annoncés, {in_db} en base, {count} attendus")

    rate = _number(summary["rate"])
    print(summary.group(0))
    print(f"{count} contrats (20 lignes, 1 clause, CGV réelle) : {rate:.2f} contrats/s")
    print(f"processus complet (démarrage compris) : {wall:.1f} s")
    print(
        json.dumps(
            {
                "bench": "contracts_bulk",
                "contracts": count,
                "per_second": rate,
                "ms_per_contract": round(1000 / rate, 1) if rate else None,
                "wall_s": round(wall, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
