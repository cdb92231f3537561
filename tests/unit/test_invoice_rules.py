"""Pure invoice rules: periods, pro rata, late interest and its legal floor, reminders."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.invoices import late_payment, rules
from app.invoices.rules import check_lines
from app.pricing.lines import LineInput
from app.pricing.problems import CREDIT_NOTE_LINES, INVOICE_LINES


def test_period_bounds_and_pro_rata() -> None:
    december = rules.Period.parse("2026-12")
    assert december is not None and str(december) == "2026-12"
    assert rules.Period.parse("2026-13") is None and rules.Period.parse("26-1") is None
    assert rules.plan_period_bounds("monthly", date(2027, 1, 1), december) is None
    bounds = rules.plan_period_bounds("monthly", date(2026, 12, 11), december)
    assert bounds == (date(2026, 12, 11), date(2026, 12, 31))
    begin, end = bounds
    assert rules.pro_rata("monthly", begin, end, december) == Decimal(21) / Decimal(31)
    assert rules.prorated_quantity(Decimal("1"), Decimal(21) / Decimal(31)) == Decimal("0.677")
    # annual: billed in the anniversary month only, for the year that begins
    assert rules.plan_period_bounds("annual", date(2025, 12, 1), december) == (
        date(2026, 12, 1),
        date(2027, 11, 30),
    )
    november = rules.Period.parse("2026-11")
    assert november is not None
    assert rules.plan_period_bounds("annual", date(2025, 12, 1), november) is None


def test_late_interest_never_below_the_legal_floor() -> None:
    # ECB 2.15 + 10 = 12.15 % ; floor 3 × 3.16 = 9.48 %
    assert late_payment.late_interest_rate(
        "ecb_plus_10", Decimal("2.15"), Decimal("3.16")
    ) == Decimal("12.15")
    assert late_payment.late_interest_rate(
        "three_times_legal", Decimal("2.15"), Decimal("3.16")
    ) == (Decimal("9.48"))
    # a negative ECB rate cannot bring the penalty under the floor
    assert late_payment.late_interest_rate(
        "ecb_plus_10", Decimal("-2"), Decimal("3.16")
    ) == Decimal("9.48")
    assert late_payment.late_interest(Decimal("1200.00"), Decimal("12.15"), 30) == Decimal("11.98")
    assert late_payment.late_interest(Decimal("1200.00"), Decimal("12.15"), 0) == Decimal("0.00")


def test_reminder_schedule() -> None:
    assert late_payment.reminder_step(0, []) is None
    assert late_payment.reminder_step(3, []) == 1
    assert late_payment.reminder_step(3, [1]) is None
    assert late_payment.reminder_step(20, [1]) == 15
    assert late_payment.reminder_step(45, []) == 30
    assert late_payment.reminder_step(45, [30]) is None
    assert rules.payment_terms_problem(61) and rules.payment_terms_problem(30) is None


def test_syntec_revision_factor_cap_and_no_decrease() -> None:
    assert rules.revision_index_month(10, date(2027, 1, 1)) == rules.Period(2026, 10)
    assert rules.revision_index_month(1, date(2027, 3, 1)) == rules.Period(2027, 1)
    factor, note = rules.revision_factor(Decimal("295.4"), Decimal("301.2"), None, False)
    assert factor == Decimal("1.019634") and note == ""
    assert rules.revised_price(Decimal("100.00"), factor) == Decimal("101.96")
    capped, note = rules.revision_factor(Decimal("100"), Decimal("110"), Decimal("3"), False)
    assert capped == Decimal("1.030000") and "plafonnée à 3 %" in note
    kept, note = rules.revision_factor(Decimal("301.2"), Decimal("295.4"), None, True)
    assert kept == Decimal("1.000000") and "non-baisse" in note
    lower, _ = rules.revision_factor(Decimal("301.2"), Decimal("295.4"), None, False)
    assert lower < 1


def _line(price: str, quantity: str = "1") -> LineInput:
    return LineInput("Audit", Decimal(quantity), Decimal(price), Decimal("20"))


def test_an_invoice_or_credit_note_total_is_never_negative() -> None:
    lines = [_line("100"), _line("-150")]
    for policy in (INVOICE_LINES, CREDIT_NOTE_LINES):
        totals, problems = check_lines(lines, policy)
        assert set(problems) == {"total"} and totals.total_excl_vat == Decimal("-50.00")
    totals, problems = check_lines([_line("100"), _line("-100")])
    assert problems == {} and totals.total_incl_vat == Decimal("0.00")
    assert check_lines([_line("10", quantity="0")])[1] == {
        "lines-0-quantity": "La quantité doit être strictement positive."
    }
