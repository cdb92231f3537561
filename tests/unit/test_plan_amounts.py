"""Over the whole commitment, a billing plan bills exactly what was signed: for random
quotes (lines, quantities, prices, VAT rates, line and global discounts, commitment,
billing frequency, setup-fee instalments), the invoices the plan issues add up, to the
cent, to the quote's total excl. VAT and to its base at each VAT rate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import pairwise

from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from app.invoices.models import BillingFrequency, BillingPlan, BillingPlanLine, PlanLineKind
from app.invoices.plans import period_lines
from app.invoices.rules import (
    Period,
    PlannedLine,
    QuotedKind,
    QuotedLine,
    add_months,
    begins_after,
    check_lines,
    months_later,
    plan_lines,
    quoted_nets,
    term_end,
)
from app.pricing.discounts import Discount, DiscountKind
from app.pricing.lines import LineInput
from app.pricing.problems import QUOTE_LINES, field_problems, global_discount_problem
from app.pricing.totals import Totals, compute_totals, line_total
from app.pricing.vat import ALLOWED_VAT_RATES

D = Decimal
FIRST = Period(2027, 1)


def _cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda c: D(c) / 100)


def _discount(high_amount: int) -> st.SearchStrategy[Discount]:
    return st.one_of(
        st.just(Discount()),
        _cents(1, 10000).map(lambda v: Discount(DiscountKind.PERCENT, v)),
        _cents(1, high_amount).map(lambda v: Discount(DiscountKind.AMOUNT, v)),
    )


@st.composite
def _quote(draw: st.DrawFn) -> tuple[list[LineInput], list[QuotedKind], Discount, int, int]:
    period_months = draw(st.sampled_from([1, 12]))
    commitment = period_months * draw(st.integers(1, 60 // period_months))
    lines: list[LineInput] = []
    kinds: list[QuotedKind] = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["months", "seats", "setup", "one_off"]))
        if kind == "months":  # "12 mois × 100 €": a subscription counted in months
            quantity, unit = D(commitment), "mois"
        else:
            quantity = draw(st.integers(1, 500_000).map(lambda q: D(q) / 1000))
            unit = "utilisateur" if kind == "seats" else ""
        lines.append(
            LineInput(
                "Ligne",
                quantity,
                draw(_cents(0, 2_000_000)),
                draw(st.sampled_from(ALLOWED_VAT_RATES)),
                draw(_discount(100_000)),
                unit,
            )
        )
        kinds.append(
            QuotedKind.RECURRING
            if kind in ("months", "seats")
            else QuotedKind.SETUP
            if kind == "setup"
            else QuotedKind.ONE_OFF
        )
    discount = draw(_discount(10_000_000))
    assume(not any(field_problems(line, QUOTE_LINES) for line in lines))
    assume(global_discount_problem(lines, discount) is None)
    return lines, kinds, discount, commitment, period_months


@st.composite
def _schedule(draw: st.DrawFn) -> list[tuple[Decimal, str]]:
    cuts = sorted(draw(st.sets(st.integers(1, 9999), max_size=5)))
    bounds = [0, *cuts, 10000]
    return [(D(b - a) / 100, f"échéance {i}") for i, (a, b) in enumerate(pairwise(bounds))]


def _plan(
    lines: list[LineInput],
    kinds: list[QuotedKind],
    signed: Totals,
    commitment: int,
    period_months: int,
    schedule: list[tuple[Decimal, str]],
) -> BillingPlan:
    nets = quoted_nets([line_total(li) for li in lines], signed, [li.vat_rate for li in lines])
    quoted = [
        QuotedLine(li.designation, li.quantity, li.unit, li.vat_rate, net, kind)
        for li, net, kind in zip(lines, nets, kinds, strict=True)
    ]
    planned = plan_lines(
        quoted,
        commitment_months=commitment,
        period_months=period_months,
        setup_schedule=schedule,
        first=FIRST,
    )
    return _billing_plan(planned, period_months)


def _billing_plan(planned: list[PlannedLine], period_months: int) -> BillingPlan:
    return BillingPlan(
        frequency=BillingFrequency.MONTHLY if period_months == 1 else BillingFrequency.ANNUAL,
        start_date=date(FIRST.year, FIRST.month, 1),
        lines=[
            BillingPlanLine(
                position=i,
                designation=p.designation,
                quantity=p.quantity,
                unit_price=p.unit_price,
                vat_rate=p.vat_rate,
                kind=PlanLineKind.RECURRING if p.bill_period is None else PlanLineKind.ONE_OFF,
                bill_period=p.bill_period,
            )
            for i, p in enumerate(planned, start=1)
        ],
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(quote=_quote(), schedule=_schedule())
def test_the_invoices_of_the_commitment_add_up_to_the_signed_total(
    quote: tuple[list[LineInput], list[QuotedKind], Discount, int, int],
    schedule: list[tuple[Decimal, str]],
) -> None:
    lines, kinds, discount, commitment, period_months = quote
    note(repr(quote))
    signed = compute_totals(lines, discount)
    plan = _plan(lines, kinds, signed, commitment, period_months, schedule)
    # after the commitment (renewed, or not), only the setup instalments left are its own
    after = _billing_plan(
        [
            PlannedLine(ln.designation, ln.quantity, ln.unit_price, ln.vat_rate, ln.bill_period)
            for ln in plan.lines
            if ln.kind is PlanLineKind.ONE_OFF
        ],
        period_months,
    )

    billed_excl = D("0")
    billed_bases: dict[Decimal, Decimal] = {}
    billed_vat: dict[Decimal, Decimal] = {}
    invoices: dict[Decimal, int] = {}
    # every month the plan may bill: the commitment, and the setup instalments after it
    for k in range(max(commitment, len(schedule))):
        billed = period_lines(plan if k < commitment else after, months_later(FIRST, k))
        if not billed:
            continue
        totals, problems = check_lines(billed)
        assert not problems, problems  # each invoice can be issued
        billed_excl += totals.total_excl_vat
        for v in totals.vat_breakdown:
            billed_bases[v.rate] = billed_bases.get(v.rate, D("0")) + v.base
            billed_vat[v.rate] = billed_vat.get(v.rate, D("0")) + v.vat
            invoices[v.rate] = invoices.get(v.rate, 0) + 1

    assert billed_excl == signed.total_excl_vat
    signed_bases = {v.rate: v.base for v in signed.vat_breakdown if v.base}
    assert {r: b for r, b in billed_bases.items() if b} == signed_bases
    # VAT is computed on each invoice's base (CGI art. 242 nonies A, EN 16931 BR-S-09):
    # the sum can differ from the VAT printed on the quote only by the rounding of each
    # invoice and of the quote, half a cent each at most
    for v in signed.vat_breakdown:
        gap = abs(billed_vat.get(v.rate, D("0")) - v.vat)
        assert gap <= D("0.005") * (invoices.get(v.rate, 0) + 1)


def test_a_global_discount_on_a_twelve_month_plan_bills_the_signed_total() -> None:
    """The quote that billed 11 094,05 € HT against 11 093,95 € signed."""
    lines = [
        LineInput("Abonnement Premium", D("12"), D("486.16"), D("20"), unit="mois"),
        LineInput("Utilisateurs", D("8"), D("480.49"), D("20"), unit="utilisateur/an"),
        LineInput("Frais de mise en service", D("1"), D("2000.00"), D("20")),
    ]
    kinds = [QuotedKind.RECURRING, QuotedKind.RECURRING, QuotedKind.SETUP]
    signed = compute_totals(lines, Discount(DiscountKind.PERCENT, D("5")))
    assert signed.total_excl_vat == D("11093.95")
    schedule = [(D("50"), "avant la mise en service"), (D("50"), "après la mise en service")]
    plan = _plan(lines, kinds, signed, 12, 1, schedule)

    invoiced = [compute_totals(period_lines(plan, months_later(FIRST, k))) for k in range(12)]

    assert sum(t.total_excl_vat for t in invoiced) == D("11093.95")
    last = period_lines(plan, months_later(FIRST, 11))
    # nets after the 583,89 € discount: 5 542,22 € (12 months at 461,85 € = 5 542,20 €) and
    # 3 651,72 € (12 months of 8 × 38,04 € = 3 651,84 €): the last month settles the cents
    assert [(li.designation, li.unit_price) for li in last if "arrondi" in li.designation] == [
        ("Abonnement Premium — ajustement d'arrondi sur l'engagement de 12\u00a0mois", D("0.02")),
        ("Utilisateurs — ajustement d'arrondi sur l'engagement de 12\u00a0mois", D("-0.12")),
    ]


def test_the_term_running_on_a_day_renews_only_when_the_contract_says_so() -> None:
    start = date(2027, 1, 31)
    assert add_months(start, 1) == date(2027, 2, 28)
    assert term_end(start, 12, False, date(2027, 6, 1)) == date(2028, 1, 31)
    assert term_end(start, 12, True, date(2028, 1, 30)) == date(2028, 1, 31)
    assert term_end(start, 12, True, date(2028, 1, 31)) == date(2029, 1, 31)
    assert term_end(start, 12, False, date(2028, 3, 1)) == date(2028, 1, 31)


def test_a_period_begun_by_the_termination_is_due_a_later_one_is_not() -> None:
    start = date(2027, 1, 1)
    assert not begins_after("monthly", start, Period(2027, 3), date(2027, 3, 15))
    assert begins_after("monthly", start, Period(2027, 4), date(2027, 3, 15))
    assert not begins_after("annual", start, Period(2027, 1), date(2027, 3, 15))
    # an annual plan bills a setup instalment in June: that month begins after a May end
    assert begins_after("annual", start, Period(2027, 6), date(2027, 5, 31))
    assert not begins_after("annual", start, Period(2027, 5), date(2027, 5, 31))


def test_setup_instalments_are_never_negative() -> None:
    """Five instalments of 16,67 % of 0,03 € rounded up to 0,01 € each used to leave the
    last one at −0,02 €."""
    schedule = [(D("16.67"), f"échéance {k}") for k in range(5)] + [(D("16.65"), "solde")]
    planned = plan_lines(
        [QuotedLine("Mise en service", D("1"), "", D("20"), D("0.03"), QuotedKind.SETUP)],
        commitment_months=12,
        period_months=12,
        setup_schedule=schedule,
        first=FIRST,
    )
    cents = ["0.01", "0", "0.01", "0", "0.01", "0"]
    assert [p.unit_price for p in planned] == [D(c) for c in cents]


def test_the_discount_share_of_a_rate_never_leaves_its_base_negative() -> None:
    """16,67 % of 0,03 € is 0,01 €: the 2,1 % rate, free, used to take it (base −0,01 €)."""
    lines = [
        LineInput("A", D("1"), D("0.01"), D("20")),
        LineInput("B", D("1"), D("0.01"), D("10")),
        LineInput("C", D("1"), D("0.01"), D("5.5")),
        LineInput("Offert", D("1"), D("0"), D("2.1")),
    ]
    totals = compute_totals(lines, Discount(DiscountKind.PERCENT, D("16.67")))
    assert [(v.rate, v.base) for v in totals.vat_breakdown] == [
        (D("20"), D("0.01")),
        (D("10"), D("0.01")),
        (D("5.5"), D("0.00")),
        (D("2.1"), D("0")),
    ]
    assert totals.total_excl_vat == D("0.02")
