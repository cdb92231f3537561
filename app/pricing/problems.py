"""Line checks, one set for every document that carries priced lines. What differs between
quotes, invoices and credit notes is said by their ``LinePolicy``, side by side below."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from app.messages import msg
from app.plaintext import control_character_problem
from app.pricing.decimals import decimal_places
from app.pricing.discounts import Discount, discount_problem
from app.pricing.lines import LineInput
from app.pricing.totals import line_total
from app.pricing.vat import VAT_RATE_PROBLEM, is_allowed_vat_rate

MAX_QUANTITY = Decimal("1000000")
MAX_UNIT_PRICE = Decimal("10000000")
MAX_DESIGNATION = 500
MAX_UNIT = 30


@dataclass(frozen=True)
class LinePolicy:
    max_lines: int
    no_line: str
    """The message when the document has no line."""
    negative_unit_price: bool
    """Invoices and credit notes may show a discount as a line of its own, at a negative
    price; their total is checked instead (``app.invoices.rules.check_lines``)."""


QUOTE_LINES = LinePolicy(
    max_lines=500,
    no_line=msg("Le devis doit comporter au moins une ligne."),
    negative_unit_price=False,
)
INVOICE_LINES = LinePolicy(
    max_lines=200,
    no_line=msg("Au moins une ligne est nécessaire."),
    negative_unit_price=True,
)
CREDIT_NOTE_LINES = INVOICE_LINES
"""A credit note credits invoice lines: the invoice's rules (its amount is bounded by what is
left to credit, ``app.invoices``)."""


def line_problems(lines: Sequence[LineInput], policy: LinePolicy) -> dict[str, str]:
    """Every problem of ``lines``, in French, keyed ``lines`` (how many) or
    ``lines-<i>-<field>`` (``i`` counts from 0; what ``app.pricing.forms`` attaches)."""
    problems: dict[str, str] = {}
    if not lines:
        problems["lines"] = policy.no_line
    elif len(lines) > policy.max_lines:
        problems["lines"] = msg(
            "{policy_max_lines} lignes au maximum.", policy_max_lines=policy.max_lines
        )
    for index, line in enumerate(lines):
        for name, message in field_problems(line, policy).items():
            problems[f"lines-{index}-{name}"] = message
    return problems


def field_problems(line: LineInput, policy: LinePolicy) -> dict[str, str]:
    """The problems of one line, keyed by field name (``designation``, ``unit``,
    ``quantity``, ``unit_price``, ``vat_rate``, ``discount_value``)."""
    problems: dict[str, str] = {}
    designation = line.designation.strip()
    if not designation:
        problems["designation"] = msg("La désignation est obligatoire.")
    elif len(designation) > MAX_DESIGNATION:
        problems["designation"] = msg(
            "{max_designation} caractères au maximum.", max_designation=MAX_DESIGNATION
        )
    elif problem := control_character_problem(designation):
        problems["designation"] = problem
    if len(line.unit) > MAX_UNIT:
        problems["unit"] = msg("{max_unit} caractères au maximum.", max_unit=MAX_UNIT)
    elif problem := control_character_problem(line.unit):
        problems["unit"] = problem
    if not line.quantity.is_finite() or line.quantity <= 0:
        problems["quantity"] = msg("La quantité doit être strictement positive.")
    elif line.quantity > MAX_QUANTITY:
        problems["quantity"] = msg("Quantité trop grande.")
    elif decimal_places(line.quantity) > 3:
        problems["quantity"] = msg("3 décimales au maximum.")
    price = line.unit_price
    if not policy.negative_unit_price and not price.is_nan() and price < 0:
        problems["unit_price"] = msg("Le prix unitaire ne peut pas être négatif.")
    elif not price.is_finite() or abs(price) > MAX_UNIT_PRICE:
        problems["unit_price"] = msg("Prix unitaire trop grand.")
    elif decimal_places(price) > 2:
        problems["unit_price"] = msg("2 décimales au maximum (centimes).")
    if not is_allowed_vat_rate(line.vat_rate):
        problems["vat_rate"] = VAT_RATE_PROBLEM
    if not problems and (
        problem := discount_problem(line.discount, line.quantity * line.unit_price)
    ):
        problems["discount_value"] = problem
    return problems


def global_discount_problem(lines: Sequence[LineInput], discount: Discount) -> str | None:
    """Why ``discount`` cannot apply to the whole of ``lines`` (their rounded totals)."""
    return discount_problem(discount, sum((line_total(li) for li in lines), Decimal("0")))
