from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class NumberSequence(Base):
    """The last number handed out per series and year (DEV, CTR, later FAC and AV).

    A row is locked (SELECT … FOR UPDATE) by the transaction that takes a number, so numbers
    are consecutive and a rolled-back transaction gives its number back: no gaps, no doubles.
    """

    __tablename__ = "number_sequences"

    series: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)
