"""The DOCX prints the global discount as the PDF and the quote page do: its amount, and its
rate when the quote gave one."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal

from docx import Document
from docx.oxml.ns import qn

from app.rendering.contract_document import QuoteLineView
from app.rendering.docx import docx_context, render_contract_docx
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


def test_a_negative_line_prints_the_minus_sign_in_the_docx() -> None:
    """A discount line's price and total: « −100,00 € » (U+2212), as the PDF prints them."""
    discount = QuoteLineView(
        position=21,
        designation="Remise de lancement",
        quantity=Decimal("1"),
        unit_price=Decimal("-100.00"),
        vat_rate=Decimal("20"),
        total_excl_vat=Decimal("-100.00"),
    )
    doc = build_document("# CGV")
    doc = replace(doc, lines=(*doc.lines, discount))
    body = Document(io.BytesIO(render_contract_docx(doc))).element.body
    text = "".join(node.text or "" for node in body.iter(qn("w:t")))
    assert f"\u2212100,00{NBSP}€" in text
    assert f"-100,00{NBSP}€" not in text


def test_a_quantity_and_its_unit_read_as_in_the_pdf() -> None:
    """« 3 jours », « 1 jour » (a real plural, a no-break space), as the PDF's
    ``format_quantity`` prints them, not « 3 jour »."""
    days = QuoteLineView(
        position=1,
        designation="Formation",
        quantity=Decimal("3"),
        unit_price=Decimal("900.00"),
        vat_rate=Decimal("20"),
        total_excl_vat=Decimal("2700.00"),
        unit="jour",
    )
    one = replace(days, position=2, quantity=Decimal("1"), total_excl_vat=Decimal("900.00"))
    lines = docx_context(replace(build_document("# CGV"), lines=(days, one)))["lines"]
    assert [line["quantity"] for line in lines] == [f"3{NBSP}jours", f"1{NBSP}jour"]
