"""Quote arithmetic and commercial terms. Pure, Decimal-only, one rounding rule for every output.

Rounding rule (written once, applied everywhere: web page, PDF, DOCX, API, later invoices):
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
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from app.plaintext import control_character_problem
from app.quotes.models import BillingPeriod, DiscountKind, PaymentMethod

__all__ = ["BillingPeriod", "DiscountKind", "PaymentMethod"]  # defined with the columns

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
ALLOWED_VAT_RATES = (Decimal("20"), Decimal("10"), Decimal("5.5"), Decimal("2.1"), Decimal("0"))
MAX_LINES = 500
MAX_QUANTITY = Decimal("1000000")
MAX_UNIT_PRICE = Decimal("10000000")
MAX_DESIGNATION = 500
MAX_UNIT = 30


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Discount:
    kind: DiscountKind = DiscountKind.NONE
    value: Decimal = Decimal("0")

    def off(self, amount: Decimal) -> Decimal:
        """What this discount takes off ``amount`` (exact for a percentage)."""
        if self.kind is DiscountKind.PERCENT:
            return amount * self.value / HUNDRED
        if self.kind is DiscountKind.AMOUNT:
            return self.value
        return Decimal("0")

    @property
    def active(self) -> bool:
        return self.kind is not DiscountKind.NONE and self.value != 0


NO_DISCOUNT = Discount()


@dataclass(frozen=True)
class LineInput:
    designation: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal
    discount: Discount = NO_DISCOUNT
    unit: str = ""
    product_id: int | None = None


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


def parse_decimal(raw: str) -> Decimal | None:
    """Accept what French users type: '1 234,50', '1234.5'. None when it is not a number."""
    cleaned = raw.strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    cleaned = cleaned.replace(",", ".")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def discount_problem(discount: Discount, applies_to: Decimal) -> str | None:
    """Why ``discount`` cannot apply to the (gross or subtotal) amount ``applies_to``."""
    if discount.kind is DiscountKind.NONE:
        return None
    if discount.value < 0:
        return "La remise ne peut pas être négative."
    if _decimals(discount.value) > 2:
        return "2 décimales au maximum."
    if discount.kind is DiscountKind.PERCENT and discount.value > HUNDRED:
        return "Une remise ne peut pas dépasser 100 %."
    if discount.kind is DiscountKind.AMOUNT and discount.value > applies_to:
        return "La remise dépasse le montant auquel elle s'applique."
    return None


def line_problems(line: LineInput) -> dict[str, str]:
    problems: dict[str, str] = {}
    designation = line.designation.strip()
    if not designation:
        problems["designation"] = "La désignation est obligatoire."
    elif len(designation) > MAX_DESIGNATION:
        problems["designation"] = f"{MAX_DESIGNATION} caractères au maximum."
    elif problem := control_character_problem(designation):
        problems["designation"] = problem
    if len(line.unit) > MAX_UNIT:
        problems["unit"] = f"{MAX_UNIT} caractères au maximum."
    elif problem := control_character_problem(line.unit):
        problems["unit"] = problem
    if line.quantity <= 0:
        problems["quantity"] = "La quantité doit être strictement positive."
    elif line.quantity > MAX_QUANTITY:
        problems["quantity"] = "Quantité trop grande."
    elif _decimals(line.quantity) > 3:
        problems["quantity"] = "3 décimales au maximum."
    if line.unit_price < 0:
        problems["unit_price"] = "Le prix unitaire ne peut pas être négatif."
    elif line.unit_price > MAX_UNIT_PRICE:
        problems["unit_price"] = "Prix unitaire trop grand."
    elif _decimals(line.unit_price) > 2:
        problems["unit_price"] = "2 décimales au maximum (centimes)."
    if line.vat_rate not in ALLOWED_VAT_RATES:
        problems["vat_rate"] = "Taux de TVA non autorisé (20, 10, 5,5, 2,1 ou 0 %)."
    if not problems and (
        problem := discount_problem(line.discount, line.quantity * line.unit_price)
    ):
        problems["discount_value"] = problem
    return problems


def global_discount_problem(lines: Sequence[LineInput], discount: Discount) -> str | None:
    return discount_problem(discount, sum((line_total(li) for li in lines), Decimal("0")))


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


# --- Commercial terms ------------------------------------------------------------------------


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


def terms_problems(terms: CommercialTerms) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not 1 <= terms.commitment_months <= MAX_COMMITMENT_MONTHS:
        problems["commitment_months"] = f"Engagement de 1 à {MAX_COMMITMENT_MONTHS} mois."
    elif terms.commitment_months % terms.billing_period.months:
        problems["billing_period"] = (
            "La durée d'engagement doit être un multiple de la période de facturation."
        )
    if not 0 <= terms.payment_terms_days <= MAX_PAYMENT_TERMS_DAYS:
        problems["payment_terms_days"] = (
            f"Délai de paiement de 0 à {MAX_PAYMENT_TERMS_DAYS} jours (art. L441-10 C. com.)."
        )
    if not 0 <= terms.notice_months <= max(terms.commitment_months, 1):
        problems["notice_months"] = "Le préavis ne peut pas dépasser la durée d'engagement."
    schedule = terms.setup_schedule
    if not 1 <= len(schedule) <= MAX_INSTALMENTS:
        problems["setup_schedule"] = f"De 1 à {MAX_INSTALMENTS} échéances."
    elif any(not 0 < s.percent <= HUNDRED or _decimals(s.percent) > 2 for s in schedule):
        problems["setup_schedule"] = "Chaque échéance est un pourcentage entre 0 et 100."
    elif sum(s.percent for s in schedule) != HUNDRED:
        problems["setup_schedule"] = "Les échéances des frais de mise en service font 100 %."
    elif any(
        not s.milestone.strip()
        or len(s.milestone) > MAX_MILESTONE
        or control_character_problem(s.milestone)
        for s in schedule
    ):
        problems["setup_schedule"] = (
            f"Chaque échéance a un libellé (de 1 à {MAX_MILESTONE} caractères)."
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
    return "; ".join(f"{s.percent.normalize():f} % {s.milestone}" for s in schedule)


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
