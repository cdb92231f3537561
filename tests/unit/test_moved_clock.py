"""The time-travel run's clock (.ci/timetravel): it lands where the business date (Paris) is
already the next day, in winter and in summer, so a test that mixes the two dates fails there."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.clock import business_date
from tests.conftest import moved_clock


@pytest.mark.parametrize(
    ("now", "utc_day", "paris_day"),
    [
        (datetime(2026, 12, 5, 9, 30, tzinfo=UTC), date(2027, 12, 5), date(2027, 12, 6)),
        (datetime(2026, 7, 1, 16, 0, tzinfo=UTC), date(2027, 7, 1), date(2027, 7, 2)),
    ],
)
def test_the_moved_clock_lands_when_paris_is_on_the_next_day(
    now: datetime, utc_day: date, paris_day: date
) -> None:
    moved = moved_clock(now, 365, "23:05")
    assert moved == datetime.combine(utc_day, datetime.min.time(), UTC).replace(hour=23, minute=5)
    assert business_date(moved) == paris_day


def test_without_a_time_of_day_only_the_date_moves() -> None:
    now = datetime(2026, 12, 5, 9, 30, 12, tzinfo=UTC)
    assert moved_clock(now, -365, None) == datetime(2025, 12, 5, 9, 30, 12, tzinfo=UTC)


@pytest.mark.parametrize("at", ["24:00", "9h", "23:5", ""])
def test_a_malformed_time_of_day_is_refused(at: str) -> None:
    with pytest.raises(pytest.UsageError, match="HH:MM"):
        moved_clock(datetime(2026, 12, 5, tzinfo=UTC), 1, at)
