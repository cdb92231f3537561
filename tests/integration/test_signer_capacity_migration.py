"""Migration 0032 adds the signer's capacity to clients, versions and generations: existing
rows get none (their contracts printed none), keep everything else, and take one afterwards.
Run on a database of its own, at the revision before, on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app import migrate
from tests.conftest import migrated_database

T = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def old_database(tmp_path: Path) -> Iterator[str]:
    with migrated_database(tmp_path, "0031") as url:  # the revision before 0032
        yield url


ROWS: tuple[tuple[str, dict[str, object]], ...] = (
    (
        "cgv_versions",
        {
            "id": 1,
            "label": "1.0",
            "title": "CGV",
            "effective_date": date(2026, 1, 1),
            "body_markdown": "# CGV",
            "sha256": "0" * 64,
            "summary": "",
            "kind": "minor",
            "published_at": T,
            "recovery_indemnity": "40.00",
        },
    ),
    (
        "clients",
        {
            "id": 1,
            "legal_name": "Boulangerie Lefèvre",
            "siren": "552100554",
            "address": "3 place de la Bourse",
            "postal_code": "69002",
            "city": "Lyon",
            "country": "FR",
            "signer_name": "Zoë Martin",
            "signer_email": "zoe@example.fr",
            "status": "active",
            "created_at": T,
        },
    ),
    (
        "quotes",
        {
            "id": 1,
            "number": "DEV-2026-0001",
            "client_id": 1,
            "status": "draft",
            "issued_on": date(2026, 1, 5),
            "valid_until": date(2026, 2, 5),
            "particular_terms": "",
            "created_at": T,
        },
    ),
    (
        "documents",
        {
            "id": 1,
            "kind": "contract",
            "reference": "CTR-2026-0001",
            "version": 1,
            "sha256": "1" * 64,
            "size": 1,
            "media_type": "application/pdf",
            "filename": "c.pdf",
            "created_at": T,
            "legal_hold": False,
        },
    ),
    (
        "contracts",
        {
            "id": 1,
            "number": "CTR-2026-0001",
            "client_id": 1,
            "quote_id": 1,
            "created_at": T,
        },
    ),
    (
        "contract_versions",
        {
            "id": 1,
            "contract_id": 1,
            "version": 1,
            "status": "generated",
            "cgv_version_id": 1,
            "document_id": 1,
            "precedence": "cgv",
            "reason": "",
            "signer_name": "Zoë Martin",
            "signer_email": "zoe@example.fr",
            "created_at": T,
        },
    ),
    (
        "users",
        {
            "id": 1,
            "email": "vente@example.fr",
            "full_name": "Léa Vente",
            "password_hash": "x",
            "role": "sales",
            "active": True,
            "created_at": T,
        },
    ),
    (
        "contract_generations",
        {
            "id": 1,
            "author_id": 1,
            "first_version": False,
            "contract_id": 1,
            "clause_version_ids": "[]",
            "free_text": "",
            "reason": "Nouveau dirigeant.",
            "status": "pending",
            "requested_at": T,
        },
    ),
)
"""A client, its quote, its contract's version 1 and a generation asked by a user, as 0031
has them (in the order their foreign keys need)."""


def test_existing_rows_get_no_capacity_and_take_one_afterwards(old_database: str) -> None:
    engine = create_engine(old_database)
    with engine.begin() as conn:
        for table, values in ROWS:
            columns = ", ".join(values)
            conn.execute(
                text(f"INSERT INTO {table} ({columns}) VALUES (:{', :'.join(values)})"), values
            )
    engine.dispose()

    migrate.upgrade(old_database)

    engine = create_engine(old_database)
    with engine.begin() as conn:
        for table in ("clients", "contract_versions", "contract_generations"):
            assert conn.execute(text(f"SELECT signer_title FROM {table}")).scalars().all() == [None]
        kept = conn.execute(
            text("SELECT signer_name, signer_email FROM contract_versions WHERE id = 1")
        ).one()
        assert tuple(kept) == ("Zoë Martin", "zoe@example.fr")
        conn.execute(text("UPDATE clients SET signer_title = :t"), {"t": "P" * 120})
        assert conn.execute(text("SELECT signer_title FROM clients")).scalar() == "P" * 120
    engine.dispose()
