"""JSON shapes of quotes for the API. Amounts are decimal strings ("1234.50"), never floats."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.pricing.totals import Totals, round_money
from app.quotes.commercial_terms import CommercialTerms
from app.quotes.models import Quote


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
