"""Quote numbers: consecutive per year, no gaps, no duplicates, even under concurrency."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.db import transaction
from app.numbering.models import NumberSequence
from app.numbering.services import next_number
from tests.together import run_together


def test_numbers_are_consecutive_per_series_and_year(app: Flask) -> None:
    factory = app.extensions["paraphe"].session_factory
    with transaction(factory) as session:
        assert next_number(session, "DEV", 2026) == "DEV-2026-0001"
        assert next_number(session, "DEV", 2026) == "DEV-2026-0002"
        assert next_number(session, "DEV", 2027) == "DEV-2027-0001"
        assert next_number(session, "CTR", 2026) == "CTR-2026-0001"


def test_rolled_back_number_is_reused(app: Flask) -> None:
    factory = app.extensions["paraphe"].session_factory
    with transaction(factory) as session:
        next_number(session, "DEV", 2026)
    session = factory()
    assert next_number(session, "DEV", 2026) == "DEV-2026-0002"
    session.rollback()
    session.close()
    with transaction(factory) as session:
        assert next_number(session, "DEV", 2026) == "DEV-2026-0002"


@pytest.mark.committed_db  # threads on their own connections
def test_concurrent_takers_get_distinct_consecutive_numbers(app: Flask) -> None:
    factory = app.extensions["paraphe"].session_factory

    def taker(_n: int) -> list[str]:
        numbers = []
        for _ in range(5):
            with transaction(factory) as session:
                numbers.append(next_number(session, "DEV", 2026))
        return numbers

    taken = [number for numbers in run_together(8, taker) for number in numbers]
    assert sorted(taken) == [f"DEV-2026-{n:04d}" for n in range(1, 41)]
    with transaction(factory) as session:
        seq = session.scalar(select(NumberSequence).where(NumberSequence.series == "DEV"))
        assert seq is not None and seq.last_value == 40
