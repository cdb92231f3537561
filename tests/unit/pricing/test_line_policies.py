"""One set of line checks (app/pricing/problems.py); what differs between quotes and invoices
(credit notes follow invoices) is their policy."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from app.pricing.lines import LineInput, line_input
from app.pricing.problems import (
    CREDIT_NOTE_LINES,
    INVOICE_LINES,
    QUOTE_LINES,
    field_problems,
    line_problems,
)
from app.pricing.vat import ALLOWED_VAT_RATES, VatRate


def _line(price: str = "10", quantity: str = "1", designation: str = "Audit") -> LineInput:
    return LineInput(designation, D(quantity), D(price), D("20"))


def test_problems_are_keyed_by_line_and_field() -> None:
    lines = [_line(), _line(quantity="0"), _line(designation=" ", price="1.001")]
    assert line_problems(lines, QUOTE_LINES) == {
        "lines-1-quantity": "La quantité doit être strictement positive.",
        "lines-2-designation": "La désignation est obligatoire.",
        "lines-2-unit_price": "2 décimales au maximum (centimes).",
    }


def test_how_many_lines_each_document_takes() -> None:
    assert line_problems([], QUOTE_LINES) == {
        "lines": "Le devis doit comporter au moins une ligne."
    }
    assert line_problems([], INVOICE_LINES) == {"lines": "Au moins une ligne est nécessaire."}
    assert line_problems([_line()] * 500, QUOTE_LINES) == {}
    assert line_problems([_line()] * 501, QUOTE_LINES) == {"lines": "500 lignes au maximum."}
    assert line_problems([_line()] * 200, INVOICE_LINES) == {}
    assert line_problems([_line()] * 201, INVOICE_LINES) == {"lines": "200 lignes au maximum."}


def test_a_negative_price_is_a_discount_line_on_invoices_only() -> None:
    assert field_problems(_line("-100.00"), QUOTE_LINES) == {
        "unit_price": "Le prix unitaire ne peut pas être négatif."
    }
    assert field_problems(_line("-100.00"), INVOICE_LINES) == {}
    assert field_problems(_line("-100.00"), CREDIT_NOTE_LINES) == {}
    # too big either way, by its size
    for policy in (QUOTE_LINES, INVOICE_LINES):
        assert field_problems(_line("10000000.01"), policy) == {
            "unit_price": "Prix unitaire trop grand."
        }
    assert field_problems(_line("-10000000.01"), INVOICE_LINES) == {
        "unit_price": "Prix unitaire trop grand."
    }


@pytest.mark.parametrize("policy", [QUOTE_LINES, INVOICE_LINES])
def test_a_number_that_is_not_finite_is_refused(policy: object) -> None:
    assert isinstance(policy, type(QUOTE_LINES))
    assert set(field_problems(_line(quantity="NaN"), policy)) == {"quantity"}
    assert set(field_problems(_line(quantity="Infinity"), policy)) == {"quantity"}
    assert set(field_problems(_line(price="NaN"), policy)) == {"unit_price"}
    assert field_problems(_line(price="Infinity"), policy) == {
        "unit_price": "Prix unitaire trop grand."
    }


def test_vat_rates_are_defined_once() -> None:
    assert (D("20"), D("10"), D("5.5"), D("2.1"), D("0")) == ALLOWED_VAT_RATES
    assert [rate.label for rate in VatRate] == ["20 %", "10 %", "5,5 %", "2,1 %", "0 %"]
    assert D("5.50") in ALLOWED_VAT_RATES and D("19.6") not in ALLOWED_VAT_RATES
    assert field_problems(LineInput("Audit", D("1"), D("1"), D("19.6")), INVOICE_LINES) == {
        "vat_rate": "Taux de TVA non autorisé (20, 10, 5,5, 2,1 ou 0 %)."
    }


def test_one_constructor_reads_any_priced_row() -> None:
    class Row:
        designation = "Journée de formation"
        quantity = D("2")
        unit_price = D("900.00")
        vat_rate = D("20")
        unit = "jour"  # not read: invoice lines carry no unit

    assert line_input(Row()) == LineInput("Journée de formation", D("2"), D("900.00"), D("20"))
