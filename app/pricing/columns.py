"""The priced line's columns, the same wherever a line is kept: a quote's lines, a billing
plan's, an issued invoice's or credit note's. One declaration, so that a designation's length
or an amount's precision cannot differ between the quote and the invoice it becomes."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Amount


class PricedLineColumns:
    """Mixed into a line's model (SQLAlchemy copies the columns into each table)."""

    designation: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Amount())
    unit_price: Mapped[Decimal] = mapped_column(Amount())
    vat_rate: Mapped[Decimal] = mapped_column(Amount(6, 2))
