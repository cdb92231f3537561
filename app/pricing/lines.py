"""What a priced line is made of, whatever document carries it (quote, invoice, plan)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from app.pricing.discounts import NO_DISCOUNT, Discount


class PricedRow(Protocol):
    """Anything with the four priced fields: a quote, plan or invoice line, a planned line."""

    @property
    def designation(self) -> str: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def unit_price(self) -> Decimal: ...
    @property
    def vat_rate(self) -> Decimal: ...


@dataclass(frozen=True)
class LineInput:
    designation: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal
    discount: Discount = NO_DISCOUNT
    unit: str = ""
    product_id: int | None = None


def line_input(row: PricedRow) -> LineInput:
    """The line as the money rules read it: designation, quantity, unit price and VAT rate of
    ``row``; no discount (invoice lines carry none: a discount there is a line of its own)."""
    return LineInput(row.designation, row.quantity, row.unit_price, row.vat_rate)
