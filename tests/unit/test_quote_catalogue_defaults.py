"""A quote line picked from the catalogue (app/quotes/catalogue.py): the product's VAT rate,
its designation, unit and price where the salesperson left them blank."""

from __future__ import annotations

from decimal import Decimal as D

from app.quotes.catalogue import TypedLine, product_choices, with_product_defaults
from app.quotes.models import Product, ProductKind

PRODUCT = Product(
    id=7,
    code="PREMIUM",
    kind=ProductKind.PLAN,
    name="Abonnement Premium",
    unit="mois",
    unit_price=D("486.16"),
    vat_rate=D("20.00"),
)


def test_blank_fields_take_the_product_values() -> None:
    typed = TypedLine(designation="  ", unit="", unit_price=" ", vat_rate="5.5")
    assert with_product_defaults(typed, PRODUCT) == TypedLine(
        designation="Abonnement Premium", unit="mois", unit_price="486.16", vat_rate="20.00"
    )


def test_typed_fields_stay_but_the_vat_rate_is_the_products() -> None:
    typed = TypedLine(designation="Premium (remisé)", unit="an", unit_price="400", vat_rate="0")
    assert with_product_defaults(typed, PRODUCT) == TypedLine(
        designation="Premium (remisé)", unit="an", unit_price="400", vat_rate="20.00"
    )


def test_the_selector_offers_a_free_line_then_the_products() -> None:
    choices = product_choices([PRODUCT])
    assert [(c.value, c.label) for c in choices] == [
        ("", "— ligne libre —"),
        ("7", "Abonnement Premium (486,16\u00a0€\u00a0HT / mois)"),
    ]
