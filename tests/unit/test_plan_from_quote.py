"""The billing plan of a signed quote (app.invoices.rules.plan_lines): recurring amounts
per period, the setup-fee schedule, one-off lines, and a global discount shared exactly."""

from __future__ import annotations

from decimal import Decimal

from app.invoices.rules import (
    Period,
    PlannedLine,
    QuotedKind,
    QuotedLine,
    months_later,
    plan_lines,
    share_discount,
)

SCHEDULE = [(Decimal("50"), "avant la mise en service"), (Decimal("50"), "après")]
D = Decimal
JANUARY_2027 = Period(2027, 1)


def _line(kind: QuotedKind, net: str, quantity: str = "1", unit: str = "") -> QuotedLine:
    return QuotedLine("Ligne", D(quantity), unit, D("20"), D(net), kind)


def _plan(
    quoted: list[QuotedLine],
    *,
    period_months: int,
    commitment_months: int = 12,
    setup_schedule: list[tuple[Decimal, str]] = SCHEDULE,
    first: Period = JANUARY_2027,
) -> list[PlannedLine]:
    """The plan of `quoted`: a year's commitment from January 2027 unless told otherwise."""
    return plan_lines(
        quoted,
        commitment_months=commitment_months,
        period_months=period_months,
        setup_schedule=setup_schedule,
        first=first,
    )


def test_a_subscription_counted_in_months_bills_its_monthly_price() -> None:
    quoted = [_line(QuotedKind.RECURRING, "1080.00", "12", "mois")]  # 12 × 100 − 10 %
    monthly = _plan(quoted, period_months=1)
    assert monthly == [PlannedLine("Ligne", D("1"), D("90.00"), D("20"), None)]
    annual = _plan(quoted, period_months=12)
    assert annual == [PlannedLine("Ligne", D("12"), D("90.00"), D("20"), None)]


def test_seats_keep_their_quantity_at_the_per_period_price() -> None:
    quoted = [_line(QuotedKind.RECURRING, "6000.00", "5", "utilisateur")]  # 5 seats, 12 months
    planned = _plan(quoted, period_months=1)
    assert planned == [PlannedLine("Ligne", D("5"), D("100.00"), D("20"), None)]


def test_setup_fees_follow_the_schedule_and_add_up_to_the_cent() -> None:
    schedule = [(D("30"), "à la commande"), (D("30"), "au démarrage"), (D("40"), "à la recette")]
    planned = _plan(
        [QuotedLine("Mise en service", D("1"), "", D("20"), D("999.99"), QuotedKind.SETUP)],
        period_months=12,
        setup_schedule=schedule,
        first=Period(2026, 12),
    )
    # rounded on the cumulative share: 30 % → 300,00 €, 60 % → 599,99 €, 100 % → 999,99 €
    assert [(p.unit_price, p.bill_period) for p in planned] == [
        (D("300.00"), "2026-12"),
        (D("299.99"), "2027-01"),
        (D("400.00"), "2027-02"),
    ]
    assert sum(p.unit_price for p in planned) == D("999.99")
    assert planned[0].designation == "Mise en service — 30 % (à la commande)"


def test_other_lines_are_billed_once_with_the_first_period() -> None:
    planned = _plan(
        [_line(QuotedKind.ONE_OFF, "1800.00", "2", "jour")],
        commitment_months=1,
        period_months=1,
        first=Period(2027, 3),
    )
    assert planned == [PlannedLine("Ligne", D("1"), D("1800.00"), D("20"), "2027-03")]


def test_a_global_discount_is_shared_in_proportion_and_adds_up() -> None:
    nets = share_discount([D("1200.00"), D("1000.00"), D("0.01")], D("100.00"))
    assert sum(nets) == D("2200.01") - D("100.00")
    assert nets[0] == D("1200.00") - D("54.55")  # 100 × 1200 / 2200.01, to the cent
    assert share_discount([D("10.00")], D("0")) == [D("10.00")]


def test_months_later_crosses_years() -> None:
    assert str(months_later(Period(2026, 11), 3)) == "2027-02"
    assert str(months_later(Period(2026, 12), 0)) == "2026-12"
