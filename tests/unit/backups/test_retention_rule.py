"""The written retention rule of backups: the newest of each of the last 7 days, 4 ISO weeks
and 12 months (newest of all always), on a fixed calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.backups.retention import kept

START = datetime(2027, 1, 1, 2, 0, tzinfo=UTC)


def _daily(days: int, per_day: int = 1) -> dict[str, datetime]:
    return {
        f"b{d:03d}-{n}": START + timedelta(days=d, hours=n)
        for d in range(days)
        for n in range(per_day)
    }


def test_a_year_of_daily_backups_keeps_7_daily_4_weekly_12_monthly() -> None:
    backups = _daily(400)
    keep = kept(backups, daily=7, weekly=4, monthly=12)
    newest = max(backups.values())
    dates = sorted(backups[name] for name in keep)
    assert dates[-7:] == [newest - timedelta(days=d) for d in range(6, -1, -1)]
    assert len({(t.year, t.month) for t in dates}) == 12
    assert len(keep) <= 7 + 4 + 12
    assert min(dates) > newest - timedelta(days=366)


def test_only_the_newest_of_a_day_counts_for_that_day() -> None:
    backups = _daily(3, per_day=4)
    keep = kept(backups, daily=7, weekly=0, monthly=0)
    assert keep == {"b000-3", "b001-3", "b002-3"}


def test_the_newest_backup_is_always_kept() -> None:
    backups = _daily(2)
    assert kept(backups, daily=0, weekly=0, monthly=0) == {"b001-0"}
    assert kept({}, daily=7, weekly=4, monthly=12) == set()
