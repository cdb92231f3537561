"""Late payment: the penalty terms a signed contract states, late interest, the recovery
indemnity and the reminder steps (C. com. L441-10, D441-5). Pure: rates and dates come from
the caller."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from app.pricing.totals import round_money
from app.rendering.french import article_reference
from app.terms.models import LateInterestRule
from app.terms.rules import LEGAL_MINIMUM_INDEMNITY, stated_rule

RECOVERY_INDEMNITY = LEGAL_MINIMUM_INDEMNITY  # C. com. L441-10, D441-5: per unpaid invoice
REJECTED_DEBIT_FEE = Decimal("25.00")
REMINDER_STEPS = (1, 15, 30)  # days late at which a reminder goes out


@dataclass(frozen=True)
class PenaltyTerms:
    """The late-payment terms a plan and its invoices apply, and where the signed contract
    states them (printed on the plan page and the invoices)."""

    rule: LateInterestRule
    indemnity: Decimal
    source: str


@dataclass(frozen=True)
class CgvPenalties:
    """What the CGV version a contract was signed under declares (``CgvVersion``)."""

    label: str
    rule: LateInterestRule | None
    article: str | None
    indemnity: Decimal


_INDEMNITY = re.compile(
    r"indemnit[ée]\s+forfaitaire[^.]{0,160}?(?P<amount>\d{2,5}(?:[,.]\d{2})?)\s*(?:€|euros?)",
    re.IGNORECASE,
)


def stated_indemnity(text: str) -> Decimal | None:
    """The recovery indemnity a particular term states in figures (« 60 € »), if any."""
    match = _INDEMNITY.search(" ".join(text.split()))
    return Decimal(match.group("amount").replace(",", ".")) if match else None


def penalty_terms(
    cgv: CgvPenalties, particular_terms: Sequence[tuple[str, str]]
) -> tuple[PenaltyTerms | None, str | None]:
    """The late-payment terms of a signed contract, or a problem (French). The rule:

    - a particular term (title, text as signed) that states a rate or an indemnity prevails
      over the CGV (Code civil 1119); two particular terms that state different rates are a
      contradiction to resolve by an amendment, never a guess;
    - otherwise the CGV version's declaration (``CgvVersion.late_interest_rule``, its article);
    - a version that states no rate: the rate of Code de commerce L441-10, said as such.
    The indemnity is never below the legal 40 € (D441-5).
    """
    # A version silent on the rate: the rate of L441-10 applies (ECB + 10 points).
    rule, indemnity = cgv.rule or LateInterestRule.ECB_PLUS_10, cgv.indemnity
    if cgv.rule is None:
        rate_source = (
            f"CGV version {cgv.label}, muettes sur le taux : taux de l'article L441-10 "
            "du Code de commerce"
        )
    else:
        article = f", {article_reference(cgv.article)}" if cgv.article else ""
        rate_source = f"CGV version {cgv.label}{article}"
    indemnity_source = f"CGV version {cgv.label}"
    found = [(title, stated_rule(text), stated_indemnity(text)) for title, text in particular_terms]
    rates = {r for _title, stated, _amount in found for r in stated}
    if len(rates) > 1:
        titles = ", ".join(f"« {title} »" for title, stated, _amount in found if stated)
        return None, (
            "Les conditions particulières signées énoncent des taux de pénalités de retard "
            f"contradictoires ({titles}) : établissez un avenant."
        )
    for title, stated, amount in found:
        if stated:
            rule, rate_source = next(iter(stated)), f"conditions particulières, « {title} »"
        if amount is not None:
            indemnity = max(amount, LEGAL_MINIMUM_INDEMNITY)
            indemnity_source = f"conditions particulières, « {title} »"
    source = (
        rate_source
        if indemnity_source in rate_source
        else f"taux : {rate_source} ; indemnité : {indemnity_source}"
    )
    return PenaltyTerms(rule, indemnity.quantize(Decimal("0.01")), source[:300]), None


def late_interest_rate(rule: str, ecb: Decimal, legal: Decimal) -> Decimal:
    """The annual late-interest rate in %: ECB + 10 points or 3 × the legal rate, per the
    plan; never below the legal floor, 3 × the legal rate (Code de commerce L441-10)."""
    floor = 3 * legal
    rate = ecb + 10 if rule == "ecb_plus_10" else floor
    return max(rate, floor)


def late_interest(amount_due: Decimal, rate: Decimal, days_late: int) -> Decimal:
    """Simple interest over the days late, on a 365-day year, rounded to the cent."""
    if amount_due <= 0 or days_late <= 0:
        return Decimal("0.00")
    return round_money(amount_due * rate / 100 * days_late / 365)


def reminder_step(days_late: int, sent_steps: Sequence[int]) -> int | None:
    """The highest schedule step reached, unless already sent (earlier steps skipped by a
    late start are not sent afterwards), or None."""
    reached = [step for step in REMINDER_STEPS if days_late >= step]
    if not reached or max(reached) in sent_steps:
        return None
    return max(reached)
