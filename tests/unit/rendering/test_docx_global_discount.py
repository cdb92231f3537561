"""The DOCX prints the global discount as the PDF and the quote page do: its amount, and its
rate when the quote gave one."""

from __future__ import annotations

from decimal import Decimal

from app.rendering.docx import docx_context
from app.rendering.french import NBSP
from tests.unit.rendering.factory import build_document


def test_the_rate_follows_the_amount_when_there_is_one() -> None:
    percent = build_document(
        "# CGV", global_discount=Decimal("114.00"), global_discount_rate=Decimal("5")
    )
    amount = build_document("# CGV", global_discount=Decimal("150.00"))
    none = build_document("# CGV")
    assert docx_context(percent)["global_discount"] == f"114,00{NBSP}€ (5{NBSP}%)"
    assert docx_context(amount)["global_discount"] == f"150,00{NBSP}€"
    assert docx_context(none)["global_discount"] == ""
