"""The rounding rule (app/pricing/totals.py docstring): line totals rounded half-up to the
cent, VAT computed once per rate on the sum of rounded line totals, then summed."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from app.pricing.decimals import parse_decimal
from app.pricing.lines import LineInput
from app.pricing.problems import QUOTE_LINES, field_problems
from app.pricing.totals import Totals, VatLine, compute_totals, round_money


def totals(*lines: tuple[str, str, str]) -> Totals:
    return compute_totals([LineInput("x", D(q), D(p), D(r)) for q, p, r in lines])


def test_half_cent_rounds_up_not_to_even() -> None:
    assert round_money(D("0.125")) == D("0.13")  # banker's rounding would give 0.12
    assert round_money(D("0.135")) == D("0.14")
    assert round_money(D("0.1249")) == D("0.12")
    assert round_money(D("-0.125")) == D("-0.13")  # half away from zero
    # a line at exactly half a cent: 0,5 × 0,25 = 0,125 → 0,13
    result = totals(("0.5", "0.25", "0"))
    assert result.line_totals == (D("0.13"),)
    assert result.total_excl_vat == D("0.13") and result.total_incl_vat == D("0.13")


def test_line_totals_are_rounded_before_they_are_summed() -> None:
    # 3 × (0,333 × 1,00) = 3 × 0,33 = 0,99, not round(0,999) = 1,00
    result = totals(("0.333", "1.00", "20"), ("0.333", "1.00", "20"), ("0.333", "1.00", "20"))
    assert result.line_totals == (D("0.33"),) * 3
    assert result.vat_breakdown == (VatLine(rate=D("20"), base=D("0.99"), vat=D("0.20")),)
    assert result.total_excl_vat == D("0.99")
    assert result.total_vat == D("0.20")  # 0,198 → 0,20
    assert result.total_incl_vat == D("1.19")


def test_vat_is_computed_once_per_rate_not_per_line() -> None:
    # two lines of 0,10 € at 5,5 %: per line 2 × round(0,0055) = 0,02; per rate round(0,011)
    result = totals(("1", "0.10", "5.5"), ("1", "0.10", "5.5"))
    assert len(result.vat_breakdown) == 1
    assert result.vat_breakdown[0].base == D("0.20")
    assert result.total_vat == D("0.01")
    # VAT at exactly half a cent rounds up: 0,25 × 10 % = 0,025 → 0,03
    assert totals(("1", "0.25", "10")).total_vat == D("0.03")
    # 0,50 × 2,1 % = 0,0105 → 0,01
    assert totals(("1", "0.50", "2.1")).total_vat == D("0.01")


def test_several_rates() -> None:
    result = totals(
        ("12", "1250.00", "20"),
        ("1.5", "900", "20"),
        ("1", "49.99", "5.5"),
        ("3", "33.33", "10"),
        ("2", "10.05", "2.1"),
        ("1", "100", "0"),
    )
    assert result.line_totals == (
        D("15000.00"),
        D("1350.00"),
        D("49.99"),
        D("99.99"),
        D("20.10"),
        D("100"),
    )
    assert [(v.rate, v.base, v.vat) for v in result.vat_breakdown] == [
        (D("20"), D("16350.00"), D("3270.00")),
        (D("10"), D("99.99"), D("10.00")),  # 9,999 → 10,00
        (D("5.5"), D("49.99"), D("2.75")),  # 2,74945 → 2,75
        (D("2.1"), D("20.10"), D("0.42")),  # 0,4221 → 0,42
        (D("0"), D("100"), D("0.00")),
    ]
    assert result.total_excl_vat == D("16620.08")
    assert result.total_vat == D("3283.17")
    assert result.total_incl_vat == D("19903.25")
    assert result.total_incl_vat == result.total_excl_vat + result.total_vat
    for amount in (result.total_excl_vat, result.total_vat, result.total_incl_vat):
        assert amount.as_tuple().exponent == -2  # always to the cent


def test_the_same_rate_written_differently_is_one_rate() -> None:
    # PostgreSQL hands rates back as 20.00; the form parses "20": one VAT line, not two
    result = compute_totals(
        [
            LineInput("a", D("1"), D("0.10"), D("20")),
            LineInput("b", D("1"), D("0.10"), D("20.00")),
            LineInput("c", D("1"), D("0.10"), D("5.50")),
            LineInput("d", D("1"), D("0.10"), D("5.5")),
        ]
    )
    assert [(v.rate, v.base, v.vat) for v in result.vat_breakdown] == [
        (D("20"), D("0.20"), D("0.04")),
        (D("5.5"), D("0.20"), D("0.01")),
    ]


def test_no_lines_is_zero() -> None:
    result = compute_totals([])
    assert result.vat_breakdown == () and result.line_totals == ()
    assert result.total_excl_vat == result.total_vat == result.total_incl_vat == D("0.00")


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1 234,50", D("1234.50")),
        ("1234.5", D("1234.5")),
        ("1\u202f234,50", D("1234.50")),  # narrow no-break space, as we print it
        ("1\u00a0234,50", D("1234.50")),  # no-break space
        (" 12 ", D("12")),
        ("0,001", D("0.001")),
        ("-3,5", D("-3.5")),
        ("1 250 000", D("1250000")),
    ],
)
def test_parse_decimal_reads_french_formats(raw: str, value: D) -> None:
    parsed = parse_decimal(raw)
    assert parsed == value and parsed is not None
    assert str(parsed) == str(value)  # exact, no float on the way


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "abc",
        "12 €",
        "1,234.50",
        "1.234,50",
        "1,5,0",
        "NaN",
        "Infinity",
        "-inf",
        "sNaN",
        "0x10",
    ],
)
def test_parse_decimal_refuses_what_is_not_a_plain_number(raw: str) -> None:
    assert parse_decimal(raw) is None


@pytest.mark.parametrize(
    ("quantity", "price", "rate", "field"),
    [
        ("0", "10", "20", "quantity"),
        ("-1", "10", "20", "quantity"),
        ("1.2345", "10", "20", "quantity"),
        ("1000001", "10", "20", "quantity"),
        ("1", "10.125", "20", "unit_price"),
        ("1", "-0.01", "20", "unit_price"),
        ("1", "10000000.01", "20", "unit_price"),
        ("1", "10", "7", "vat_rate"),
        ("1", "10", "19.6", "vat_rate"),
    ],
)
def test_line_problems(quantity: str, price: str, rate: str, field: str) -> None:
    problems = field_problems(LineInput("Abonnement", D(quantity), D(price), D(rate)), QUOTE_LINES)
    assert set(problems) == {field}


def test_acceptable_lines_have_no_problem() -> None:
    for quantity, price, rate in (
        ("1.5", "900", "20"),
        ("0.001", "0", "0"),
        ("1.500", "10.100", "5.50"),
        ("1000000", "10000000", "2.1"),
    ):
        assert (
            field_problems(LineInput("Abonnement", D(quantity), D(price), D(rate)), QUOTE_LINES)
            == {}
        )
    assert set(field_problems(LineInput("  ", D("1"), D("1"), D("20")), QUOTE_LINES)) == {
        "designation"
    }
    assert set(field_problems(LineInput("x" * 501, D("1"), D("1"), D("20")), QUOTE_LINES)) == {
        "designation"
    }
