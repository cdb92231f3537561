"""The one rounding rule (app/pricing/totals.py docstring), checked on random lines: each line
is rounded once, the subtotal is the sum of the rounded lines, the global discount comes off
the bases exactly, the VAT is rounded once per rate, and the totals add up to the cent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.pricing.discounts import NO_DISCOUNT, Discount, DiscountKind
from app.pricing.lines import LineInput
from app.pricing.problems import QUOTE_LINES, global_discount_problem, line_problems
from app.pricing.totals import CENT, compute_totals, line_total
from app.pricing.vat import ALLOWED_VAT_RATES

D = Decimal
HALF_CENT = D("0.005")
# pure arithmetic: only a machine busy elsewhere makes it slow, never the rule
MACHINE_BUSY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _scaled(low: int, high: int, places: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: D(n).scaleb(-places))


@st.composite
def _line(draw: st.DrawFn) -> LineInput:
    quantity = draw(_scaled(1, 50_000, 3))  # 0,001 to 50
    price = draw(_scaled(0, 500_000, 2))  # 0,00 to 5 000,00
    gross = quantity * price
    discount = draw(
        st.one_of(
            st.just(NO_DISCOUNT),
            _scaled(0, 10_000, 2).map(lambda v: Discount(DiscountKind.PERCENT, v)),
            _scaled(0, int(gross * 100), 2).map(lambda v: Discount(DiscountKind.AMOUNT, v)),
        )
    )
    rate = draw(st.sampled_from(ALLOWED_VAT_RATES))
    # the same rate may be written "20" or "20.00": it is one rate
    rate = draw(st.sampled_from([rate, rate.quantize(CENT)]))
    return LineInput("Ligne", quantity, price, rate, discount)


@st.composite
def _quote(draw: st.DrawFn) -> tuple[list[LineInput], Discount]:
    lines = draw(st.lists(_line(), min_size=1, max_size=12))
    subtotal = sum((line_total(line) for line in lines), D("0"))
    discount = draw(
        st.one_of(
            st.just(NO_DISCOUNT),
            _scaled(0, 10_000, 2).map(lambda v: Discount(DiscountKind.PERCENT, v)),
            _scaled(0, int(subtotal * 100), 2).map(lambda v: Discount(DiscountKind.AMOUNT, v)),
        )
    )
    return lines, discount


@MACHINE_BUSY
@given(_quote())
def test_the_drawn_quotes_are_valid_ones(quote: tuple[list[LineInput], Discount]) -> None:
    lines, discount = quote
    assert line_problems(lines, QUOTE_LINES) == {}
    assert global_discount_problem(lines, discount) is None


@MACHINE_BUSY
@given(_quote())
def test_each_line_is_rounded_once_half_up(quote: tuple[list[LineInput], Discount]) -> None:
    lines, discount = quote
    totals = compute_totals(lines, discount)
    for line, total in zip(lines, totals.line_totals, strict=True):
        gross = line.quantity * line.unit_price
        exact = gross - line.discount.off(gross)
        assert total == exact.quantize(CENT, rounding=ROUND_HALF_UP)
        assert abs(total - exact) <= HALF_CENT
        assert total.as_tuple().exponent == -2


@MACHINE_BUSY
@given(_quote())
def test_the_subtotal_is_the_sum_of_the_rounded_lines(
    quote: tuple[list[LineInput], Discount],
) -> None:
    lines, discount = quote
    totals = compute_totals(lines, discount)
    assert totals.subtotal_excl_vat == sum(totals.line_totals, D("0"))


@MACHINE_BUSY
@given(_quote())
def test_the_global_discount_comes_off_the_bases_exactly(
    quote: tuple[list[LineInput], Discount],
) -> None:
    lines, discount = quote
    totals = compute_totals(lines, discount)
    expected = (
        discount.off(totals.subtotal_excl_vat).quantize(CENT, rounding=ROUND_HALF_UP)
        if discount.active
        else D("0")
    )
    assert totals.global_discount == expected
    bases = sum((v.base for v in totals.vat_breakdown), D("0"))
    assert bases == totals.subtotal_excl_vat - totals.global_discount == totals.total_excl_vat
    assert all(v.base >= 0 for v in totals.vat_breakdown)


@MACHINE_BUSY
@given(_quote())
def test_vat_is_rounded_once_per_rate(quote: tuple[list[LineInput], Discount]) -> None:
    lines, discount = quote
    totals = compute_totals(lines, discount)
    rates = [v.rate for v in totals.vat_breakdown]
    assert rates == sorted({line.vat_rate.normalize() for line in lines}, reverse=True)
    for vat_line in totals.vat_breakdown:
        exact = vat_line.base * vat_line.rate / 100
        assert vat_line.vat == exact.quantize(CENT, rounding=ROUND_HALF_UP)
        # without a global discount, a rate's base is the sum of its rounded lines
        if not discount.active:
            assert vat_line.base == sum(
                (
                    total
                    for line, total in zip(lines, totals.line_totals, strict=True)
                    if line.vat_rate == vat_line.rate
                ),
                D("0"),
            )
    assert totals.total_vat == sum((v.vat for v in totals.vat_breakdown), D("0"))
    assert totals.total_incl_vat == totals.total_excl_vat + totals.total_vat
