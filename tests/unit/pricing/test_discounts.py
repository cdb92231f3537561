"""Discounts (app/pricing/totals.py docstring: the discount is taken off the exact gross
amount, the line is rounded once; the global discount is shared between rates)."""

from __future__ import annotations

from decimal import Decimal as D

from app.pricing.discounts import Discount, DiscountKind
from app.pricing.lines import LineInput
from app.pricing.problems import QUOTE_LINES, field_problems, global_discount_problem
from app.pricing.totals import VatLine, compute_totals

PCT = DiscountKind.PERCENT
AMT = DiscountKind.AMOUNT


def line(
    q: str, p: str, rate: str = "20", kind: DiscountKind = DiscountKind.NONE, v: str = "0"
) -> LineInput:
    return LineInput("x", D(q), D(p), D(rate), Discount(kind, D(v)))


def test_line_discount_applies_before_rounding_half_cent_goes_up() -> None:
    # 3 × 0,15 = 0,45 ; −50 % = 0,225 exactly → 0,23 (rounded after the discount, half-up)
    result = compute_totals([line("3", "0.15", kind=PCT, v="50")])
    assert result.line_totals == (D("0.23"),)
    # rounding before the discount would give round(0,45) × 0,5 = 0,225 → a second rounding
    assert result.line_discounts == (D("0.22"),)
    # 1 × 0,05 at −10 % = 0,045 → 0,05 (not 0,04 as banker's rounding would give)
    assert compute_totals([line("1", "0.05", kind=PCT, v="10")]).line_totals == (D("0.05"),)
    # 0,5 × 0,35 − 0,05 € = 0,125 → 0,13
    assert compute_totals([line("0.5", "0.35", kind=AMT, v="0.05")]).line_totals == (D("0.13"),)


def test_full_discount_and_amount_discount() -> None:
    result = compute_totals([line("2", "10", kind=PCT, v="100"), line("2", "10", kind=AMT, v="5")])
    assert result.line_totals == (D("0.00"), D("15.00"))
    assert result.total_excl_vat == D("15.00") and result.total_incl_vat == D("18.00")


def test_global_discount_is_shared_between_rates_and_adds_up() -> None:
    lines = [line("1", "100", "20"), line("1", "50", "5.5"), line("1", "0.01", "0")]
    result = compute_totals(lines, Discount(PCT, D("10")))
    assert result.subtotal_excl_vat == D("150.01")
    assert result.global_discount == D("15.00")  # 15,001 → 15,00
    shares = [D("100"), D("50"), D("0.01")]
    bases = [v.base for v in result.vat_breakdown]
    assert sum(s - b for s, b in zip(shares, bases, strict=True)) == D("15.00")
    assert result.vat_breakdown[0] == VatLine(D("20"), D("90.00"), D("18.00"))
    assert result.vat_breakdown[1] == VatLine(D("5.5"), D("45.00"), D("2.48"))  # 2,475 → 2,48
    assert result.vat_breakdown[2].base == D("0.01")  # remainder: 15,00 − 10,00 − 5,00 = 0
    assert result.total_excl_vat == D("135.01")
    assert result.total_incl_vat == D("155.49")


def test_global_amount_discount_remainder_goes_to_the_last_rate() -> None:
    lines = [line("1", "1", "20"), line("1", "1", "10"), line("1", "1", "0")]
    result = compute_totals(lines, Discount(AMT, D("1.00")))
    # 1/3 each: 0,33 + 0,33 + remainder 0,34
    assert [v.base for v in result.vat_breakdown] == [D("0.67"), D("0.67"), D("0.66")]
    assert result.total_excl_vat == D("2.00")


def test_no_discount_keeps_the_old_figures() -> None:
    result = compute_totals([line("12", "100")])
    assert result.global_discount == D("0") and result.subtotal_excl_vat == D("1200.00")
    assert result.total_incl_vat == D("1440.00")


def test_invalid_discounts_are_refused_per_field() -> None:
    assert field_problems(line("1", "10", kind=PCT, v="100.01"), QUOTE_LINES) == {
        "discount_value": "Une remise ne peut pas dépasser 100 %."
    }
    assert field_problems(line("2", "10", kind=AMT, v="20.01"), QUOTE_LINES) == {
        "discount_value": "La remise dépasse le montant auquel elle s'applique."
    }
    assert field_problems(line("1", "10", kind=AMT, v="-1"), QUOTE_LINES)[
        "discount_value"
    ].startswith("La remise ne peut pas être négative")
    assert field_problems(line("1", "10", kind=PCT, v="1.005"), QUOTE_LINES) == {
        "discount_value": "2 décimales au maximum."
    }
    assert field_problems(line("1", "10", kind=AMT, v="10"), QUOTE_LINES) == {}
    lines = [line("1", "10")]
    assert global_discount_problem(lines, Discount(AMT, D("10.01")))
    assert global_discount_problem(lines, Discount(PCT, D("101")))
    assert global_discount_problem(lines, Discount(PCT, D("100"))) is None
