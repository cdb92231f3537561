"""Gapless, per-year numbering (quotes now; invoices and credit notes later)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.numbering.models import NumberSequence


def next_number(session: Session, series: str, year: int, width: int = 4) -> str:
    """Take the next number of `series` for `year` inside the caller's transaction.

    The row lock is held until the caller commits or rolls back: a rollback returns the number,
    so the sequence never has a hole, and two concurrent callers never get the same value.
    """
    stmt = (
        select(NumberSequence)
        .where(NumberSequence.series == series, NumberSequence.year == year)
        .with_for_update()
    )
    seq = session.execute(stmt).scalar_one_or_none()
    if seq is None:
        try:
            with session.begin_nested():
                session.add(NumberSequence(series=series, year=year, last_value=0))
        except IntegrityError:
            pass  # another transaction created the row first; lock theirs below
        seq = session.execute(stmt).scalar_one()
    seq.last_value += 1
    session.flush()
    return f"{series}-{year}-{seq.last_value:0{width}d}"
