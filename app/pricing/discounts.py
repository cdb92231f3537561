"""Line and global discounts: what they take off, and when they cannot apply."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from app.messages import msg
from app.pricing.decimals import decimal_places, parse_decimal

HUNDRED = Decimal("100")


class DiscountKind(StrEnum):
    """Stored as is in ``quotes.global_discount_kind`` and ``quote_lines.discount_kind``."""

    NONE = "none"
    PERCENT = "percent"
    AMOUNT = "amount"


@dataclass(frozen=True)
class Discount:
    kind: DiscountKind = DiscountKind.NONE
    value: Decimal = Decimal("0")

    def off(self, amount: Decimal) -> Decimal:
        """What this discount takes off ``amount`` (exact for a percentage)."""
        if self.kind is DiscountKind.PERCENT:
            return amount * self.value / HUNDRED
        if self.kind is DiscountKind.AMOUNT:
            return self.value
        return Decimal("0")

    @property
    def active(self) -> bool:
        return self.kind is not DiscountKind.NONE and self.value != 0


NO_DISCOUNT = Discount()


def discount_problem(discount: Discount, applies_to: Decimal) -> str | None:
    """Why ``discount`` cannot apply to the (gross or subtotal) amount ``applies_to``."""
    if discount.kind is DiscountKind.NONE:
        return None
    if discount.value < 0:
        return msg("La remise ne peut pas être négative.")
    if decimal_places(discount.value) > 2:
        return "2 décimales au maximum."
    if discount.kind is DiscountKind.PERCENT and discount.value > HUNDRED:
        return msg("Une remise ne peut pas dépasser 100 %.")
    if discount.kind is DiscountKind.AMOUNT and discount.value > applies_to:
        return msg("La remise dépasse le montant auquel elle s'applique.")
    return None


def parse_discount(kind_raw: str, value_raw: str) -> Discount | None:
    """A discount as typed in a form (kind, then "10" or "150,00"); None when unreadable.
    No discount whatever the value when the kind says none."""
    try:
        kind = DiscountKind(kind_raw or "none")
    except ValueError:
        return None
    if kind is DiscountKind.NONE:
        return NO_DISCOUNT
    value = parse_decimal(value_raw)
    return None if value is None else Discount(kind, value)
