"""What the catalogue brings to a quote line: picked in the form, a product fills in what the
salesperson left blank. A later price change never alters an existing quote (lines copy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wtforms.fields.choices import SelectChoice

from app.quotes.models import Product
from app.rendering.french import format_amount_excl_vat

FREE_LINE = SelectChoice("", "— ligne libre —")


@dataclass(frozen=True)
class TypedLine:
    """The text fields of a quote line as typed, before they are read as numbers."""

    designation: str
    unit: str
    unit_price: str
    vat_rate: str


def with_product_defaults(typed: TypedLine, product: Product) -> TypedLine:
    """A line picked from the catalogue takes the product's VAT rate, and its designation,
    unit and price when those are left blank (they stay editable)."""
    return TypedLine(
        designation=typed.designation.strip() or product.name,
        unit=typed.unit.strip() or product.unit,
        unit_price=typed.unit_price.strip() or str(product.unit_price),
        vat_rate=str(product.vat_rate),
    )


def product_choices(products: Sequence[Product]) -> list[SelectChoice]:
    """The catalogue selector of a quote line: a free line, then each active product."""
    return [FREE_LINE] + [
        SelectChoice(str(p.id), f"{p.name} ({format_amount_excl_vat(p.unit_price)} / {p.unit})")
        for p in products
    ]
