"""Which backups to keep (the written rule, settings PARAPHE_BACKUP_KEEP_*): the newest backup
of each of the last `daily` days that have one, of each of the last `weekly` ISO weeks, of each
of the last `monthly` months; the newest backup of all is always kept. Pure: names in, names
out."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from datetime import datetime


def kept(backups: Mapping[str, datetime], *, daily: int, weekly: int, monthly: int) -> set[str]:
    ordered = sorted(backups, key=lambda name: backups[name], reverse=True)
    keep: set[str] = set(ordered[:1])

    def newest_per(period: Callable[[datetime], Hashable], count: int) -> None:
        seen: list[Hashable] = []
        for name in ordered:
            bucket = period(backups[name])
            if bucket in seen:
                continue
            if len(seen) == count:
                return
            seen.append(bucket)
            keep.add(name)

    newest_per(lambda t: t.date(), daily)
    newest_per(lambda t: tuple(t.isocalendar())[:2], weekly)
    newest_per(lambda t: (t.year, t.month), monthly)
    return keep
