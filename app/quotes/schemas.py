"""JSON shapes of quotes for the API. Amounts are decimal strings ("1234.50"), never floats."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.json_input import Reader
from app.messages import msg
from app.pricing.decimals import parse_decimal
from app.pricing.discounts import NO_DISCOUNT, Discount, DiscountKind
from app.pricing.lines import LineInput
from app.pricing.problems import MAX_DESIGNATION, MAX_UNIT
from app.pricing.totals import Totals, round_money
from app.quotes.catalogue import TypedLine, with_product_defaults
from app.quotes.commercial_terms import (
    BillingPeriod,
    CommercialTerms,
    CommitmentPlan,
    PaymentMethod,
    preset_terms,
    with_preset,
)
from app.quotes.models import Product, Quote
from app.quotes.rules import MAX_LINES, MAX_PARTICULAR_TERMS


def _money(value: Decimal) -> str:
    return f"{round_money(value):f}"


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def quote_json(quote: Quote, totals: Totals, terms: CommercialTerms) -> dict[str, Any]:
    return {
        "id": quote.id,
        "number": quote.number,
        "client_id": quote.client_id,
        "status": quote.status.value,
        "issued_on": quote.issued_on.isoformat(),
        "valid_until": quote.valid_until.isoformat(),
        "lines": [
            {
                "position": line.position,
                "product_id": line.product_id,
                "designation": line.designation,
                "quantity": _number(line.quantity),
                "unit": line.unit,
                "unit_price": _money(line.unit_price),
                "vat_rate": _number(line.vat_rate),
                "discount": {
                    "kind": line.discount_kind.value,
                    "value": _number(line.discount_value),
                },
                "total_excl_vat": _money(total),
            }
            for line, total in zip(quote.lines, totals.line_totals, strict=True)
        ],
        "global_discount": {
            "kind": quote.global_discount_kind.value,
            "value": _number(quote.global_discount_value),
            "amount": _money(totals.global_discount),
        },
        "subtotal_excl_vat": _money(totals.subtotal_excl_vat),
        "vat_breakdown": [
            {"rate": _number(v.rate), "base": _money(v.base), "vat": _money(v.vat)}
            for v in totals.vat_breakdown
        ],
        "total_excl_vat": _money(totals.total_excl_vat),
        "total_vat": _money(totals.total_vat),
        "total_incl_vat": _money(totals.total_incl_vat),
        "commercial_terms": {
            "commitment_months": terms.commitment_months,
            "billing_period": terms.billing_period.value,
            "payment_method": terms.payment_method.value,
            "payment_terms_days": terms.payment_terms_days,
            "tacit_renewal": terms.tacit_renewal,
            "notice_months": terms.notice_months,
            "setup_fee_schedule": [
                {"percent": _number(s.percent), "milestone": s.milestone}
                for s in terms.setup_schedule
            ],
        },
    }


# --- the body of POST /api/v1/quotes -------------------------------------------------------

MAX_CODE = 40
LINE_MEMBERS = ("product", "designation", "quantity", "unit", "unit_price", "vat_rate", "discount")
TERMS_MEMBERS = (
    "plan",
    "commitment_months",
    "billing_period",
    "payment_method",
    "payment_terms_days",
    "tacit_renewal",
    "notice_months",
)
QUOTE_MEMBERS = (
    "client_id",
    "lines",
    "particular_terms",
    "valid_until",
    "global_discount",
    "terms",
)


@dataclass(frozen=True)
class LineBody:
    """A line as sent: a catalogue item (`product`, its code) whose blanks the product
    fills in, or a free line that says everything itself."""

    product: str
    typed: TypedLine
    quantity: Decimal | None
    discount: Discount


@dataclass(frozen=True)
class QuoteBody:
    client_id: int
    lines: list[LineBody]
    particular_terms: str
    valid_until: date | None
    global_discount: Discount
    terms: CommercialTerms


def _discount(reader: Reader, name: str) -> Discount:
    if not reader.has(name):
        return NO_DISCOUNT
    part = Reader(reader.members[name], reader.at(name), reader.errors)
    part.only(("kind", "value"))
    kind = part.choice("kind", [k.value for k in DiscountKind], default="none")
    value = part.decimal("value", required=kind != "none")
    if kind == "none" or value is None:
        return NO_DISCOUNT
    return Discount(DiscountKind(kind), value)


def _terms(reader: Reader) -> CommercialTerms:
    if not reader.has("terms"):
        return CommercialTerms()
    part = Reader(reader.members["terms"], "terms", reader.errors)
    part.only(TERMS_MEMBERS)
    plan = part.choice("plan", [p.value for p in CommitmentPlan], default="custom")
    # A preset's terms are the starting point (a monthly plan has a month's notice), then
    # what the body says, then the preset's duration, period and method (as on the form).
    default = preset_terms(CommitmentPlan(plan))
    typed = CommercialTerms(
        commitment_months=_or(
            part.integer("commitment_months", minimum=0, maximum=9999), default.commitment_months
        ),
        billing_period=BillingPeriod(
            part.choice("billing_period", list(BillingPeriod), default=default.billing_period)
        ),
        payment_method=PaymentMethod(
            part.choice("payment_method", list(PaymentMethod), default=default.payment_method)
        ),
        payment_terms_days=_or(
            part.integer("payment_terms_days", minimum=0, maximum=9999), default.payment_terms_days
        ),
        tacit_renewal=part.boolean("tacit_renewal", default=default.tacit_renewal),
        notice_months=_or(
            part.integer("notice_months", minimum=0, maximum=9999), default.notice_months
        ),
    )
    return with_preset(typed, CommitmentPlan(plan))


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def parse_quote(body: Any) -> tuple[QuoteBody, dict[str, str]]:
    """The quote as sent, and the problems found reading it (by path)."""
    reader = Reader(body)
    reader.only(QUOTE_MEMBERS)
    client_id = reader.integer("client_id", minimum=1, maximum=2**31 - 1, required=True)
    lines = []
    for item in reader.objects("lines", min_items=1, max_items=MAX_LINES):
        item.only(LINE_MEMBERS)
        lines.append(
            LineBody(
                product=item.text("product", max_length=MAX_CODE),
                typed=TypedLine(
                    designation=item.text("designation", max_length=MAX_DESIGNATION),
                    unit=item.text("unit", max_length=MAX_UNIT),
                    unit_price=_decimal_text(item, "unit_price"),
                    vat_rate=_decimal_text(item, "vat_rate"),
                ),
                quantity=item.decimal("quantity", required=True),
                discount=_discount(item, "discount"),
            )
        )
    quote = QuoteBody(
        client_id=client_id or 0,
        lines=lines,
        particular_terms=reader.text(
            "particular_terms", max_length=MAX_PARTICULAR_TERMS, multiline=True
        ),
        valid_until=reader.day("valid_until"),
        global_discount=_discount(reader, "global_discount"),
        terms=_terms(reader),
    )
    return quote, reader.errors


def _decimal_text(reader: Reader, name: str) -> str:
    """A decimal member kept as text: a catalogue line's blank is the product's value."""
    value = reader.decimal(name)
    return "" if value is None else f"{value:f}"


def resolve_lines(
    lines: list[LineBody], catalogue: dict[str, Product], errors: dict[str, str]
) -> list[LineInput]:
    """The lines as the quote rules read them: a catalogue item takes the product's VAT rate
    and fills in what the line leaves blank (`with_product_defaults`, as on the form); a free
    line must give its designation, price and rate."""
    inputs: list[LineInput] = []
    for index, line in enumerate(lines):
        path = f"lines[{index}]"
        typed = line.typed
        if line.product:
            product = catalogue.get(line.product)
            if product is None:
                errors.setdefault(f"{path}.product", msg("Produit inconnu ou retiré du catalogue."))
                continue
            typed = with_product_defaults(typed, product)
        product_id = catalogue[line.product].id if line.product else None
        for name in ("designation", "unit_price", "vat_rate"):
            if not getattr(typed, name):
                errors.setdefault(f"{path}.{name}", msg("Obligatoire pour une ligne libre."))
        price, vat = parse_decimal(typed.unit_price), parse_decimal(typed.vat_rate)
        if line.quantity is None or price is None or vat is None:
            continue
        inputs.append(
            LineInput(
                typed.designation, line.quantity, price, vat, line.discount, typed.unit, product_id
            )
        )
    return inputs


_FORM_KEY = re.compile(r"^lines-(\d+)-(\w+)$")
_RENAMED = {
    "discount_value": "discount.value",
    "global_discount_value": "global_discount.value",
    "client": "client_id",
}


def body_path(form_key: str) -> str:
    """The path in the body of a problem the quote rules key like the form (`lines-2-quantity`
    is `lines[2].quantity`; the commercial terms are under `terms`)."""
    if match := _FORM_KEY.match(form_key):
        index, name = match.groups()
        return f"lines[{index}].{_RENAMED.get(name, name)}"
    if form_key in TERMS_MEMBERS or form_key == "setup_schedule":
        return f"terms.{form_key}"
    return _RENAMED.get(form_key, form_key)
