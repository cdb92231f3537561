"""Business dates: documents are dated in France's time zone, not in UTC.

Between midnight and 1–2 a.m. in Paris the UTC date is still the previous day; a quote
made then must carry today's Paris date and, on 1 January, the new year's number series.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def business_date(now: datetime) -> date:
    return now.astimezone(PARIS).date()
