"""Migration 0013 gives existing CGV versions the late-payment rule their text states, and
existing plans the terms of the version their contract was signed under (they used to get
« three times the legal rate » whatever the contract said); issued invoices keep what they
printed. Run on a database of its own, at the revision before, on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from app import migrate
from tests.conftest import migrated_database

T = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DEMO_CGV = (Path(__file__).parents[2] / "app" / "demo" / "cgv-demo.md").read_text(encoding="utf-8")
BODIES = {
    "1.0": DEMO_CGV,  # ECB + 10 points in « Article 4. Prix et paiement » (setext heading)
    "2.0": "# CGV\n\n## 8. Retards\n\nIntérêts : trois fois le taux d'intérêt légal.\n",
    "3.0": "# CGV\n\n## 1. Objet\n\nLe service.\n",
    "4.0": "## 1. A\n\nTaux BCE majoré de 10 points.\n\n## 2. B\n\n3 fois le taux d'intérêt légal.",
}


@pytest.fixture
def old_database(tmp_path: Path) -> Iterator[str]:
    with migrated_database(tmp_path, "0008") as url:
        yield url


def _insert(engine: Engine, table: str, **values: object) -> None:
    names = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({params})"), values)


def _signed_plan(engine: Engine, n: int, cgv_id: int) -> None:
    """Client, quote, contract signed under CGV ``cgv_id``, its plan and one invoice."""
    _insert(
        engine,
        "clients",
        id=n,
        legal_name=f"Client {n}",
        siren="552100554",
        address="3 rue",
        postal_code="69002",
        city="Lyon",
        country="FR",
        signer_name="Zoë",
        status="active",
        signer_email="zoe@example.fr",
        created_at=T,
    )
    _insert(
        engine,
        "quotes",
        id=n,
        number=f"DEV-2026-{n:04d}",
        client_id=n,
        status="draft",
        issued_on=date(2026, 1, 5),
        valid_until=date(2026, 2, 5),
        particular_terms="",
        created_at=T,
    )
    _insert(
        engine,
        "documents",
        id=n,
        kind="contract",
        reference=f"CTR-2026-{n:04d}",
        version=1,
        sha256=f"{n:064d}",
        size=1,
        media_type="application/pdf",
        filename="c.pdf",
        created_at=T,
        legal_hold=False,
    )
    _insert(
        engine,
        "contracts",
        id=n,
        number=f"CTR-2026-{n:04d}",
        client_id=n,
        quote_id=n,
        created_at=T,
    )
    _insert(
        engine,
        "contract_versions",
        id=n,
        contract_id=n,
        version=1,
        status="signed",
        cgv_version_id=cgv_id,
        document_id=n,
        precedence="cgv",
        reason="",
        created_at=T,
    )
    _insert(
        engine,
        "billing_plans",
        id=n,
        contract_id=n,
        client_id=n,
        frequency="monthly",
        start_date=date(2026, 1, 1),
        payment_terms_days=30,
        payment_method="Virement bancaire",
        late_interest_rule="three_times_legal",
        active=True,
        created_at=T,
    )
    _insert(
        engine,
        "invoices",
        id=n,
        number=f"FAC-2026-{n:06d}",
        client_id=n,
        issued_on=T.date(),
        due_on=date(2026, 2, 4),
        payment_terms_days=30,
        payment_method="Virement bancaire",
        late_interest_rule="three_times_legal",
        total_excl_vat="100.00",
        total_vat="20.00",
        total_incl_vat="120.00",
        notes="",
        created_at=T,
    )


def test_existing_versions_and_plans_get_what_the_signed_text_says(old_database: str) -> None:
    engine = create_engine(old_database)
    for index, (label, body) in enumerate(BODIES.items(), start=1):
        _insert(
            engine,
            "cgv_versions",
            id=index,
            label=label,
            title="CGV",
            effective_date=date(2024, index, 1),
            body_markdown=body,
            sha256="0" * 64,
            summary="",
            kind="material",
            published_at=T,
        )
        _signed_plan(engine, index, index)

    migrate.upgrade(old_database)

    with engine.connect() as conn:
        versions = conn.execute(
            text(
                "SELECT label, late_interest_rule, penalty_article, recovery_indemnity "
                "FROM cgv_versions ORDER BY id"
            )
        ).all()
        plans = conn.execute(
            text("SELECT late_interest_rule, penalty_source FROM billing_plans ORDER BY id")
        ).all()
        invoices = conn.execute(
            text(
                "SELECT late_interest_rule, recovery_indemnity, penalty_source, reverse_charge "
                "FROM invoices ORDER BY id"
            )
        ).all()
    engine.dispose()
    assert [(v[0], v[1], v[2], f"{float(v[3]):.2f}") for v in versions] == [
        ("1.0", "ecb_plus_10", "Article 4. Prix et paiement", "40.00"),
        ("2.0", "three_times_legal", "8. Retards", "40.00"),
        ("3.0", None, None, "40.00"),  # states no rate: L441-10's applies
        ("4.0", None, None, "40.00"),  # contradictory: none guessed
    ]
    assert [tuple(p) for p in plans] == [
        ("ecb_plus_10", "CGV version 1.0, article « Article 4. Prix et paiement »"),
        ("three_times_legal", "CGV version 2.0, article « 8. Retards »"),
        (
            "ecb_plus_10",
            "CGV version 3.0, muettes sur le taux : taux de l'article L441-10 du Code de commerce",
        ),
        (
            "ecb_plus_10",
            "CGV version 4.0, muettes sur le taux : taux de l'article L441-10 du Code de commerce",
        ),
    ]
    # issued invoices are immutable: they keep the rule they printed, without a source
    assert {(i[0], f"{float(i[1]):.2f}", i[2], bool(i[3])) for i in invoices} == {
        ("three_times_legal", "40.00", "", False)
    }
