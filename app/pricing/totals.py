"""Line totals, VAT per rate and document totals. Pure, Decimal-only, one rounding rule for
every output (web page, PDF, DOCX, API; quotes, invoices and credit notes alike).

Rounding rule (written once, applied everywhere):
1. the gross amount of a line = quantity × unit price, exact (no rounding);
2. the line discount is taken off the EXACT gross amount: a percentage ``p`` gives
   gross × (1 − p/100), an amount ``a`` gives gross − a; only then is the line total
   excl. VAT rounded half-up (half away from zero) to the cent, once.
   So the discount applies before rounding: 3 × 0,15 € at −50 % = 0,225 → 0,23 €;
3. the subtotal excl. VAT = the sum of the rounded line totals;
4. the global discount is an amount in cents: a percentage ``p`` gives
   round(subtotal × p/100); an amount is taken as given. It is shared between the VAT rates
   in proportion to their bases, each share rounded half-up to the cent, the share of the
   smallest rate (the last one) taking the remainder so that the shares add up to the
   discount exactly (the next rate up does when that would leave the smallest rate's
   base negative: a free line at its own rate, a base of a few cents);
5. the VAT base of a rate = the sum of the rounded line totals at that rate minus its share
   of the global discount; the VAT of a rate = base × rate / 100 rounded half-up to the
   cent, once per rate ("TVA par taux", as French invoices show it);
6. total excl. VAT = sum of the bases; total incl. VAT = total excl. VAT + sum of the VATs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from app.pricing.discounts import HUNDRED, NO_DISCOUNT, Discount
from app.pricing.lines import LineInput

CENT = Decimal("0.01")


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class VatLine:
    rate: Decimal
    base: Decimal
    vat: Decimal


@dataclass(frozen=True)
class Totals:
    line_totals: tuple[Decimal, ...]
    vat_breakdown: tuple[VatLine, ...]
    total_excl_vat: Decimal
    total_vat: Decimal
    total_incl_vat: Decimal
    subtotal_excl_vat: Decimal = Decimal("0.00")
    global_discount: Decimal = Decimal("0.00")
    line_discounts: tuple[Decimal, ...] = field(default=())


def line_total(line: LineInput) -> Decimal:
    gross = line.quantity * line.unit_price
    return round_money(gross - line.discount.off(gross))


def compute_totals(lines: Sequence[LineInput], global_discount: Discount = NO_DISCOUNT) -> Totals:
    line_totals = tuple(line_total(line) for line in lines)
    line_discounts = tuple(
        round_money(line.quantity * line.unit_price) - total
        for line, total in zip(lines, line_totals, strict=True)
    )
    bases: dict[Decimal, Decimal] = {}
    for line, total in zip(lines, line_totals, strict=True):
        key = line.vat_rate.normalize()
        bases[key] = bases.get(key, Decimal("0")) + total
    subtotal = round_money(sum(bases.values(), Decimal("0")))
    discount = round_money(global_discount.off(subtotal)) if global_discount.active else CENT * 0
    ordered = sorted(bases.items(), reverse=True)
    shares = [
        round_money(discount * base / subtotal) if subtotal else Decimal("0.00")
        for _rate, base in ordered
    ]
    for last in reversed(range(len(ordered))):  # the smallest rate whose base can take it
        remainder = discount - (sum(shares, Decimal("0")) - shares[last])
        if remainder <= ordered[last][1] or last == 0:
            shares[last] = remainder
            break
    breakdown = tuple(
        VatLine(rate=rate, base=base - share, vat=round_money((base - share) * rate / HUNDRED))
        for (rate, base), share in zip(ordered, shares, strict=True)
    )
    total_excl = sum((v.base for v in breakdown), Decimal("0.00"))
    total_vat = sum((v.vat for v in breakdown), Decimal("0.00"))
    return Totals(
        line_totals=line_totals,
        vat_breakdown=breakdown,
        total_excl_vat=round_money(total_excl),
        total_vat=round_money(total_vat),
        total_incl_vat=round_money(total_excl + total_vat),
        subtotal_excl_vat=subtotal,
        global_discount=discount,
        line_discounts=line_discounts,
    )
