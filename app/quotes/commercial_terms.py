"""A quote's commercial terms: how long, how often, how and when the client pays; the
presets offered to sales; their checks and the French sentences printed on the quote and the
contract. Pure. The enums are defined here and stored by ``app.quotes.models``."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from app.messages import msg
from app.plaintext import control_character_problem
from app.pricing.decimals import decimal_places, parse_decimal

HUNDRED = Decimal("100")


class BillingPeriod(StrEnum):
    MONTHLY = "monthly"
    ANNUAL = "annual"

    @property
    def label(self) -> str:
        return {"monthly": "mensuelle", "annual": "annuelle"}[self.value]

    @property
    def months(self) -> int:
        return {"monthly": 1, "annual": 12}[self.value]


class PaymentMethod(StrEnum):
    DIRECT_DEBIT = "direct_debit"
    TRANSFER = "transfer"

    @property
    def label(self) -> str:
        return {"direct_debit": "prélèvement SEPA", "transfer": "virement"}[self.value]


class CommitmentPlan(StrEnum):
    """The presets offered to sales; CUSTOM lets them set every term."""

    MONTHLY = "monthly"  # 1 month, billed monthly by direct debit
    ANNUAL = "annual"  # 12 months, billed yearly by transfer
    CUSTOM = "custom"


MAX_COMMITMENT_MONTHS = 60
MAX_PAYMENT_TERMS_DAYS = 60  # Code de commerce L441-10: 60 days from the invoice at most
MAX_INSTALMENTS = 6
MAX_MILESTONE = 120


@dataclass(frozen=True)
class SetupInstalment:
    """A share of the setup fees ("frais de mise en service") and when it is invoiced."""

    percent: Decimal
    milestone: str


DEFAULT_SETUP_SCHEDULE = (
    SetupInstalment(Decimal("50"), "avant la mise en service"),
    SetupInstalment(Decimal("50"), "après la mise en service"),
)


@dataclass(frozen=True)
class CommercialTerms:
    """What invoicing reads: how long, how often, how and when the client pays.

    - ``commitment_months``: the initial term (1, 12 or custom);
    - ``billing_period``: subscription invoiced monthly or annually, in advance;
    - ``payment_method`` and ``payment_terms_days`` (days after the invoice date);
    - ``tacit_renewal``: renewed for the same duration unless notice is given
      ``notice_months`` before the end of the current term;
    - ``setup_schedule``: percentages of the setup-fee lines (they add up to 100), each with
      its milestone.
    """

    commitment_months: int = 12
    billing_period: BillingPeriod = BillingPeriod.ANNUAL
    payment_method: PaymentMethod = PaymentMethod.TRANSFER
    payment_terms_days: int = 30
    tacit_renewal: bool = True
    notice_months: int = 3
    setup_schedule: tuple[SetupInstalment, ...] = DEFAULT_SETUP_SCHEDULE


def preset_terms(plan: CommitmentPlan) -> CommercialTerms:
    if plan is CommitmentPlan.MONTHLY:
        return CommercialTerms(
            commitment_months=1,
            billing_period=BillingPeriod.MONTHLY,
            payment_method=PaymentMethod.DIRECT_DEBIT,
            payment_terms_days=0,
            notice_months=1,
        )
    return CommercialTerms()


def with_preset(terms: CommercialTerms, plan: CommitmentPlan) -> CommercialTerms:
    """``terms`` as typed, with the duration, billing period and payment method of ``plan``
    unless it is CUSTOM (the form shows those fields, but a preset decides them)."""
    if plan is CommitmentPlan.CUSTOM:
        return terms
    preset = preset_terms(plan)
    return dataclasses.replace(
        terms,
        commitment_months=preset.commitment_months,
        billing_period=preset.billing_period,
        payment_method=preset.payment_method,
    )


def terms_problems(terms: CommercialTerms) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not 1 <= terms.commitment_months <= MAX_COMMITMENT_MONTHS:
        problems["commitment_months"] = msg(
            "Engagement de 1 à {max_commitment_months} mois.",
            max_commitment_months=MAX_COMMITMENT_MONTHS,
        )
    elif terms.commitment_months % terms.billing_period.months:
        problems["billing_period"] = msg(
            "La durée d'engagement doit être un multiple de la période de facturation."
        )
    if not 0 <= terms.payment_terms_days <= MAX_PAYMENT_TERMS_DAYS:
        problems["payment_terms_days"] = msg(
            "Délai de paiement de 0 à {max_payment_terms_days} jours (art. L441-10 C. com.).",
            max_payment_terms_days=MAX_PAYMENT_TERMS_DAYS,
        )
    if not 0 <= terms.notice_months <= max(terms.commitment_months, 1):
        problems["notice_months"] = msg("Le préavis ne peut pas dépasser la durée d'engagement.")
    schedule = terms.setup_schedule
    if not 1 <= len(schedule) <= MAX_INSTALMENTS:
        problems["setup_schedule"] = msg(
            "De 1 à {max_instalments} échéances.", max_instalments=MAX_INSTALMENTS
        )
    elif any(not 0 < s.percent <= HUNDRED or decimal_places(s.percent) > 2 for s in schedule):
        problems["setup_schedule"] = msg("Chaque échéance est un pourcentage entre 0 et 100.")
    elif sum(s.percent for s in schedule) != HUNDRED:
        problems["setup_schedule"] = msg("Les échéances des frais de mise en service font 100 %.")
    elif any(
        not s.milestone.strip()
        or len(s.milestone) > MAX_MILESTONE
        or control_character_problem(s.milestone)
        for s in schedule
    ):
        problems["setup_schedule"] = msg(
            "Chaque échéance a un libellé (de 1 à {max_milestone} caractères).",
            max_milestone=MAX_MILESTONE,
        )
    return problems


def parse_schedule(raw: str) -> tuple[SetupInstalment, ...] | None:
    """'50 avant la mise en service; 50 après la mise en service' → instalments; None if
    unreadable. Each part is a percentage then its milestone."""
    instalments = []
    for part in raw.split(";"):
        part = part.strip()
        if not part:
            continue
        head, _, milestone = part.partition(" ")
        percent = parse_decimal(head.rstrip("%"))
        if percent is None:
            return None
        instalments.append(SetupInstalment(percent, milestone.strip().removeprefix("% ").strip()))
    return tuple(instalments)


def format_schedule(schedule: Sequence[SetupInstalment]) -> str:
    """The schedule as the quote form shows it; French puts a (narrow no-break) space before
    « ; », which `parse_schedule` reads back."""
    return "\u202f; ".join(f"{s.percent.normalize():f} % {s.milestone}" for s in schedule)


def _months(n: int) -> str:
    return f"{n}\u00a0mois"


def describe_terms(terms: CommercialTerms) -> tuple[str, ...]:
    """The commercial terms as the French sentences printed on the quote page and contract."""
    sentences = [
        f"Engagement initial de {_months(terms.commitment_months)} à compter de la signature.",
        f"Abonnement facturé selon une périodicité {terms.billing_period.label}, "
        f"terme à échoir, payable par {terms.payment_method.label}.",
        (
            "Factures payables à réception."
            if terms.payment_terms_days == 0
            else f"Factures payables à {terms.payment_terms_days}\u00a0jours date de facture."
        ),
    ]
    if terms.tacit_renewal:
        sentences.append(
            "Le contrat est reconduit tacitement par périodes de "
            f"{_months(terms.commitment_months)}, sauf résiliation notifiée au moins "
            f"{_months(terms.notice_months)} avant le terme de la période en cours."
        )
    else:
        sentences.append("Le contrat prend fin au terme de l'engagement, sans reconduction tacite.")
    parts = [f"{_percent(s.percent)} {s.milestone}" for s in terms.setup_schedule]
    if parts:
        sentences.append("Frais de mise en service facturés\u00a0: " + "\u202f; ".join(parts) + ".")
    return tuple(sentences)


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}".replace(".", ",") + "\u00a0%"
