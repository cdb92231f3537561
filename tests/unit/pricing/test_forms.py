"""The French decimal field and the helper that puts line problems on their sub-forms
(app/pricing/forms.py), on plain WTForms forms (no request needed)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import FieldList, FormField, StringField

from app.forms import FrenchSubForm
from app.pricing.forms import VAT_CHOICES, FrenchDecimalField, attach_line_errors


class _Line(FrenchSubForm):
    designation = StringField("Désignation")
    quantity = FrenchDecimalField("Quantité", message="Indiquez une quantité (ex. 12 ou 1,5).")


class _Document(FrenchSubForm):
    lines = FieldList(FormField(_Line), min_entries=1)
    amount = FrenchDecimalField("Montant")


def _form(**data: str) -> _Document:
    return _Document(formdata=MultiDict(data))


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1 234,56", D("1234.56")),
        ("1234.56", D("1234.56")),
        ("1\u202f234,5", D("1234.5")),
        ("12", D("12")),
        ("-100,00", D("-100.00")),
        ("\u2212100,00", D("-100.00")),  # the minus sign our documents print, copied back
    ],
)
def test_the_field_reads_french_numbers(raw: str, value: D) -> None:
    form = _form(amount=raw)
    assert form.validate(), form.errors
    assert form.amount.data == value


@pytest.mark.parametrize("raw", ["douze", "1,2,3", "1e5x", "NaN", "∞", "1" * 21])
def test_the_field_refuses_garbage_in_french_and_shows_it_back(raw: str) -> None:
    form = _form(amount=raw)
    assert not form.validate()
    assert form.amount.data is None
    assert form.amount.errors == [
        "20 caractères au maximum." if len(raw) > 20 else "Indiquez un nombre (ex. 1 234,56)."
    ]
    assert f'value="{raw}"' in form.amount()


def test_blank_is_none_and_each_field_says_its_own_message() -> None:
    form = _form(**{"amount": "  ", "lines-0-quantity": "beaucoup"})
    assert not form.validate()
    assert form.amount.data is None and form.amount.is_blank() and not form.amount.errors
    assert form.lines.entries[0].form.quantity.errors == ["Indiquez une quantité (ex. 12 ou 1,5)."]
    stored = _Document(data={"amount": D("1250.00")})
    assert stored.amount() == '<input id="amount" name="amount" type="text" value="1250.00">'


def test_line_problems_land_on_the_sub_form_they_came_from() -> None:
    form = _Document(formdata=MultiDict({"lines-0-designation": "", "lines-1-designation": "x"}))
    sources = [entry.form for entry in form.lines.entries][1:]  # the blank first line left out
    attach_line_errors(
        form,
        sources,
        {
            "lines-0-quantity": "La quantité doit être strictement positive.",
            "lines-0-unknown": "Produit inconnu.",
            "amount": "Montant trop grand.",
            "lines": "Au moins une ligne est nécessaire.",
            "total": "Le total est négatif.",
        },
    )
    assert not form.lines.entries[0].form.quantity.errors
    assert form.lines.entries[1].form.quantity.errors == [
        "La quantité doit être strictement positive."
    ]
    assert form.amount.errors == ["Montant trop grand."]
    assert form.form_errors == [
        "Produit inconnu.",
        "Au moins une ligne est nécessaire.",
        "Le total est négatif.",
    ]


def test_vat_choices_are_the_rates() -> None:
    assert [(c.value, c.label) for c in VAT_CHOICES] == [
        ("20", "20 %"),
        ("10", "10 %"),
        ("5.5", "5,5 %"),
        ("2.1", "2,1 %"),
        ("0", "0 %"),
    ]
