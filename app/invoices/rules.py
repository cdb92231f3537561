"""Invoice arithmetic and checks. Pure; the rounding rule and the line checks are
``app.pricing``'s (``INVOICE_LINES``).

Invoice lines may carry a negative unit price: a discount (remise) shown as its own line.
The invoice total must stay positive or zero: a negative amount is a credit note's job.
"""

from __future__ import annotations

import calendar
import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from itertools import accumulate, pairwise

from app.messages import Day, msg
from app.pricing.lines import LineInput
from app.pricing.problems import INVOICE_LINES, LinePolicy, line_problems
from app.pricing.totals import CENT, Totals, compute_totals, round_money

MAX_LINES = INVOICE_LINES.max_lines
MAX_PAYMENT_DAYS = 60  # Code de commerce L441-10: at most 60 days from the invoice date
SERIES_INVOICE = "FAC"
SERIES_CREDIT_NOTE = "AV"
NUMBER_WIDTH = 6
_PERIOD = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def check_lines(
    lines: Sequence[LineInput], policy: LinePolicy = INVOICE_LINES
) -> tuple[Totals, dict[str, str]]:
    """The totals and every problem, keyed ``lines-<i>-<field>`` or ``lines``/``total``.
    ``policy``: ``CREDIT_NOTE_LINES`` for a credit note (today the invoice's rules)."""
    problems = line_problems(lines, policy)
    if problems:
        return compute_totals([]), problems
    totals = compute_totals(lines)
    if totals.total_excl_vat < 0 or any(v.base < 0 for v in totals.vat_breakdown):
        problems["total"] = msg(
            "Le total (ou la base d'un taux de TVA) est négatif : une facture ne peut pas "
            "être négative, émettez un avoir sur la facture concernée."
        )
    return totals, problems


def due_date(issued_on: date, payment_terms_days: int) -> date:
    """The due date as a calendar date (what the invoice must print)."""
    return issued_on + timedelta(days=payment_terms_days)


def payment_date_problem(occurred_on: date, issued_on: date) -> str | None:
    """A payment (or a rejected debit) is about an issued invoice: it cannot predate it. A
    deposit received before the invoice is an advance (acompte), invoiced on its own."""
    if occurred_on < issued_on:
        return msg(
            "Cette date est avant la date d'émission de la facture ({issued_on}) : un "
            "paiement ne peut pas la précéder.",
            issued_on=Day(issued_on),
        )
    return None


def payment_terms_problem(days: int) -> str | None:
    if not 0 <= days <= MAX_PAYMENT_DAYS:
        return msg(
            "Délai de paiement de 0 à {maximum} jours (Code de commerce L441-10).",
            maximum=MAX_PAYMENT_DAYS,
        )
    return None


@dataclass(frozen=True)
class Period:
    year: int
    month: int

    @classmethod
    def parse(cls, raw: str) -> Period | None:
        match = _PERIOD.fullmatch(raw.strip())
        return cls(int(match.group(1)), int(match.group(2))) if match else None

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])


def plan_period_bounds(frequency: str, start: date, period: Period) -> tuple[date, date] | None:
    """The billed span for ``period`` (billed in advance), or None when nothing is due.

    Monthly: every month from the start month. Annual: the month of each anniversary of the
    start (the year that begins then). A first period starting mid-way is billed pro rata.
    """
    if period.last_day < start:
        return None
    if frequency == "monthly":
        return max(start, period.first_day), period.last_day
    if period.month != start.month:
        return None
    begin = max(start, period.first_day)
    end = _add_years(period.first_day, 1) - timedelta(days=1)
    return begin, end


def begins_after(frequency: str, start: date, period: Period, day: date) -> bool:
    """Whether what the plan bills for ``period`` begins after ``day``: the span of its
    recurring lines, or the month itself for lines billed once that month. A period that
    has begun by ``day`` (billed in advance) is due in full."""
    bounds = plan_period_bounds(frequency, start, period)
    return (bounds[0] if bounds is not None else period.first_day) > day


def term_end(start: date, commitment_months: int, renews: bool, day: date) -> date:
    """The first day after the term that contains ``day``: the initial commitment from
    ``start``, or, when it renews tacitly, the renewal (same length) running on ``day``."""
    terms = 1
    end = add_months(start, commitment_months)
    while renews and end <= day:
        terms += 1
        end = add_months(start, commitment_months * terms)
    return end


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    target = months_later(Period(day.year, day.month), months)
    return date(target.year, target.month, min(day.day, target.last_day.day))


def pro_rata(frequency: str, begin: date, end: date, period: Period) -> Decimal:
    """Fraction of a full period covered by [begin, end]: 1 for a full period."""
    if frequency == "monthly":
        full = (period.last_day - period.first_day).days + 1
    else:
        full = (_add_years(period.first_day, 1) - period.first_day).days
    covered = (end - begin).days + 1
    return Decimal(1) if covered >= full else Decimal(covered) / Decimal(full)


def period_containing(frequency: str, start: date, day: date) -> Period | None:
    """The plan's billing period whose span contains ``day`` (None before the start)."""
    if day < start:
        return None
    if frequency == "monthly":
        return Period(day.year, day.month)
    year = day.year if day.month >= start.month else day.year - 1
    return Period(year, start.month)


def upgrade_charge(old_total: Decimal, new_total: Decimal, fraction: Decimal) -> Decimal:
    """What an upgrade costs for the rest of a period already billed: the difference of the
    line's amounts per period × the fraction of the period left (0 for a decrease: a paid
    period is not refunded here; a credit note does that)."""
    difference = new_total - old_total
    if difference <= 0:
        return Decimal("0.00")
    return round_money(difference * fraction)


def prorated_quantity(quantity: Decimal, fraction: Decimal) -> Decimal:
    """The quantity billed for a partial period, to 3 decimals (what a line can carry)."""
    if fraction == 1:
        return quantity
    return (quantity * fraction).quantize(Decimal("0.001"))


def credited_so_far(credit_totals: Sequence[Decimal]) -> Decimal:
    return round_money(sum(credit_totals, Decimal("0")))


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# --- reverse charge (autoliquidation) ----------------------------------------------------

EU_MEMBER_STATES = frozenset(
    {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU"}
    | {"IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}
)
"""ISO 3166 codes of the EU member states (Greece is GR here, EL in its VAT numbers)."""


def reverse_charge_applies(country: str, vat_number: str | None) -> bool:
    """A service to a business established in another member state, identified there for
    VAT, is taxed where the client is (directive 2006/112/CE art. 44) and the client pays
    the VAT itself (art. 196; CGI art. 283-2): the invoice bears no French VAT."""
    code = country.strip().upper()
    return code != "FR" and code in EU_MEMBER_STATES and bool((vat_number or "").strip())


def reverse_charged(lines: Sequence[LineInput], reverse_charge: bool) -> list[LineInput]:
    """The lines as invoiced: at 0 % under the reverse charge, unchanged otherwise."""
    if not reverse_charge:
        return list(lines)
    return [dataclasses.replace(line, vat_rate=Decimal("0")) for line in lines]


# --- Syntec price revision --------------------------------------------------------------

FACTOR_PLACES = Decimal("0.000001")


def revision_index_month(reference_month: int, renewal: date) -> Period:
    """The month whose index is S: month ``reference_month`` strictly before the renewal's
    month (this year if it comes earlier, else last year)."""
    year = renewal.year if reference_month < renewal.month else renewal.year - 1
    return Period(year, reference_month)


def revision_factor(
    s0: Decimal, s: Decimal, cap_percent: Decimal | None, no_decrease: bool
) -> tuple[Decimal, str]:
    """S / S0 (6 decimals), capped and floored per the clause, and what was applied."""
    factor = (s / s0).quantize(FACTOR_PLACES)
    applied = ""
    if cap_percent is not None and factor > 1 + cap_percent / 100:
        factor = (1 + cap_percent / 100).quantize(FACTOR_PLACES)
        applied = f" ; hausse plafonnée à {cap_percent.normalize():f} %"
    if no_decrease and factor < 1:
        factor = Decimal("1.000000")
        applied = " ; clause de non-baisse : prix maintenu"
    return factor, applied


def revised_price(p0: Decimal, factor: Decimal) -> Decimal:
    return round_money(p0 * factor)


# --- billing plan from the signed quote ---------------------------------------------------


class QuotedKind(StrEnum):
    RECURRING = "recurring"  # a subscription or module: its total covers the commitment
    SETUP = "setup"  # setup fees: split by the quote's schedule
    ONE_OFF = "one_off"  # training days, other services: billed once, with the first period


@dataclass(frozen=True)
class QuotedLine:
    """A quote line as billing reads it: its net total after every discount (line and global
    share), and what kind of amount it is."""

    designation: str
    quantity: Decimal
    unit: str
    vat_rate: Decimal
    net_total: Decimal
    kind: QuotedKind


@dataclass(frozen=True)
class PlannedLine:
    designation: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal
    bill_period: str | None  # None: every period; else the one period (AAAA-MM) it is billed


MONTH_UNITS = ("mois",)


def months_later(period: Period, months: int) -> Period:
    index = period.year * 12 + period.month - 1 + months
    return Period(index // 12, index % 12 + 1)


def share_discount(totals: Sequence[Decimal], discount: Decimal) -> list[Decimal]:
    """Each line's net total once a global ``discount`` is shared in proportion to the line
    totals, to the cent; the last line takes the rounding remainder, so they add up."""
    subtotal = sum(totals, Decimal("0"))
    if not discount or not totals:
        return list(totals)
    if not subtotal:  # nothing to share in proportion to: the last line takes it all
        return [*totals[:-1], totals[-1] - discount]
    shares = [round_money(discount * total / subtotal) for total in totals[:-1]]
    shares.append(discount - sum(shares, Decimal("0")))
    return [total - share for total, share in zip(totals, shares, strict=True)]


def quoted_nets(
    line_totals: Sequence[Decimal], totals: Totals, rates: Sequence[Decimal]
) -> list[Decimal]:
    """Each quote line's net total once the global discount is taken off, consistent with
    the signed figures: each VAT rate's share of the discount is the one ``compute_totals``
    took off that rate's base, shared among that rate's lines by ``share_discount``. So the
    nets of a rate add up to the signed base of that rate, to the cent."""
    signed = {v.rate: v.base for v in totals.vat_breakdown}
    nets = list(line_totals)
    for rate in signed:
        indexes = [i for i, r in enumerate(rates) if r.normalize() == rate]
        group = [line_totals[i] for i in indexes]
        discount = sum(group, Decimal("0")) - signed[rate]
        for i, net in zip(indexes, share_discount(group, discount), strict=True):
            nets[i] = net
    return nets


def plan_lines(
    lines: Sequence[QuotedLine],
    *,
    commitment_months: int,
    period_months: int,
    setup_schedule: Sequence[tuple[Decimal, str]],
    first: Period,
) -> list[PlannedLine]:
    """The billing plan of a signed quote. The rule, written down:

    - a recurring line's net total covers the whole commitment: each period bills
      ``period_months / commitment_months`` of it. A line counted in months (unit "mois",
      quantity = the commitment) becomes ``period_months`` months at its net monthly price;
      any other recurring line keeps its quantity (users, licences) at the per-period price;
    - setup fees are split by the schedule's percentages, rounded on the cumulative share
      (never negative, adding up to the cent); instalment k (from 0) is billed with the
      month ``first + k``: the first before onboarding, the next ones as it proceeds;
    - any other line is billed once, with the first period;
    - the amounts billed over the commitment add up to the signed net total of each line,
      to the cent: the per-period price is rounded once (the quote's rule), and what this
      rounding leaves over the commitment is billed, as its own line at the line's VAT rate
      ("ajustement d'arrondi", positive or negative), with the last period of the commitment.
    """
    planned: list[PlannedLine] = []
    adjustments: list[PlannedLine] = []
    share = Decimal(period_months) / Decimal(commitment_months)
    periods = commitment_months // period_months
    last = str(months_later(first, commitment_months - period_months))
    for line in lines:
        if line.kind is QuotedKind.RECURRING:
            counted_in_months = (
                line.unit.strip().lower() in MONTH_UNITS
                and line.quantity == Decimal(commitment_months)
            )
            if counted_in_months:
                regular = PlannedLine(
                    line.designation,
                    Decimal(period_months),
                    round_money(line.net_total / line.quantity),
                    line.vat_rate,
                    None,
                )
            else:
                regular = PlannedLine(
                    line.designation,
                    line.quantity,
                    round_money(line.net_total * share / line.quantity),
                    line.vat_rate,
                    None,
                )
            per_period = round_money(regular.quantity * regular.unit_price)
            if per_period * (periods - 1) > line.net_total:
                # a price of a few cents per period whose rounding, repeated, would exceed the
                # line: one unit per period, cut down to the cent, the last period settling up
                per_period = (line.net_total / periods).quantize(CENT, rounding=ROUND_DOWN)
                regular = PlannedLine(
                    line.designation, Decimal("1"), per_period, line.vat_rate, None
                )
            planned.append(regular)
            remainder = line.net_total - per_period * periods
            if remainder:
                adjustments.append(
                    PlannedLine(
                        f"{line.designation} — ajustement d'arrondi sur l'engagement de "
                        f"{commitment_months}\u00a0mois",
                        Decimal("1"),
                        remainder,
                        line.vat_rate,
                        last,
                    )
                )
        elif line.kind is QuotedKind.SETUP and setup_schedule:
            # cumulative: instalment k bills round(net × (p1 + … + pk)) minus what the
            # earlier ones billed, so none is negative and they add up to the net exactly
            shares = list(accumulate(percent for percent, _ in setup_schedule))[:-1]
            reached = [round_money(line.net_total * share / 100) for share in shares]
            bounds = [Decimal("0.00"), *reached, line.net_total]
            amounts = [after - before for before, after in pairwise(bounds)]
            for k, ((percent, milestone), amount) in enumerate(
                zip(setup_schedule, amounts, strict=True)
            ):
                planned.append(
                    PlannedLine(
                        f"{line.designation} — {percent.normalize():f} % ({milestone})",
                        Decimal("1"),
                        amount,
                        line.vat_rate,
                        str(months_later(first, k)),
                    )
                )
        else:
            planned.append(
                PlannedLine(
                    line.designation, Decimal("1"), line.net_total, line.vat_rate, str(first)
                )
            )
    return planned + adjustments
