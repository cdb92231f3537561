"""Amounts with their tax basis, quantities with their unit, plurals and status labels: the
one formatting module (Babel underneath) and the one label table."""

from __future__ import annotations

import importlib
from decimal import Decimal
from enum import StrEnum

import pytest

from app.rendering.french import (
    NBSP,
    NNBSP,
    format_amount_excl_vat,
    format_amount_incl_vat,
    format_days,
    format_decimal,
    format_quantity,
    is_plural,
    plural,
)
from app.rendering.labels import KIND_LABELS, STATUS_LABELS, label


def test_amounts_with_their_tax_basis() -> None:
    assert format_amount_excl_vat(Decimal("59")) == f"59,00{NBSP}€{NBSP}HT"
    assert format_amount_incl_vat(Decimal("1234.5")) == f"1{NNBSP}234,50{NBSP}€{NBSP}TTC"


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (Decimal("3.5"), "jour", f"3,5{NBSP}jours"),
        (Decimal("1"), "jour", f"1{NBSP}jour"),
        (Decimal("1.5"), "jour", f"1,5{NBSP}jour"),  # French: singular below 2
        (Decimal("2.000"), "heure", f"2{NBSP}heures"),
        (Decimal("3"), "mois", f"3{NBSP}mois"),
        (Decimal("12"), "licence", f"12{NBSP}licences"),
        (Decimal("1"), "licence", f"1{NBSP}licence"),
        (Decimal("2"), "u.", f"2{NBSP}u."),  # not a word: kept as typed
        (Decimal("2"), "Go", f"2{NBSP}Go"),
        (Decimal("4"), "forfaits", f"4{NBSP}forfaits"),  # already plural: no "ss"
        (Decimal("1250"), "", f"1{NNBSP}250"),
        (Decimal("-2"), "jour", f"\u22122{NBSP}jours"),  # CLDR's unit too: the minus sign
        (Decimal("-2"), "licence", f"\u22122{NBSP}licences"),
    ],
)
def test_format_quantity(value: Decimal, unit: str, expected: str) -> None:
    assert format_quantity(value, unit) == expected


def test_days_and_plurals() -> None:
    assert format_days(Decimal("3.5")) == f"3,5{NBSP}jours"
    assert format_days(1) == f"1{NBSP}jour"
    assert format_days(30) == f"30{NBSP}jours"
    assert plural(1, "relance", "relances") == f"1{NBSP}relance"
    assert plural(3, "relance", "relances") == f"3{NBSP}relances"
    assert not is_plural(0) and not is_plural(Decimal("1.9")) and is_plural(2)


def test_rounding_stays_half_up_under_babel() -> None:
    # Babel alone rounds half-even (0,12); the commercial rule rounds 0.125 up.
    assert format_decimal(Decimal("0.125"), 2) == "0,13"
    assert format_decimal(Decimal("-0.001"), 2) == "0,00"
    assert format_decimal(Decimal("1E+2")) == "100"


ENUMS = {
    "ClientStatus": "app.clients.models",
    "QuoteStatus": "app.quotes.models",
    "VersionStatus": "app.contracts.models",
    "RequestStatus": "app.signatures.models",
    "SignerStatus": "app.signatures.models",
    "AcceptanceMethod": "app.terms.models",
    "VersionKind": "app.terms.models",
    "Stage": "app.signatures.progress",
    "RunStatus": "app.job_runs.models",
    "DeliveryStatus": "app.webhooks.models",
    "AttemptOutcome": "app.webhooks.models",
    "DocumentKind": "app.documents.models",
    "MailStatus": "app.mail.models",
    "BillingRunStatus": "app.invoices.models",
}


@pytest.mark.parametrize("name", sorted(STATUS_LABELS))
def test_every_member_of_each_labelled_enum_has_a_french_label(name: str) -> None:
    enum: type[StrEnum] = getattr(importlib.import_module(ENUMS[name]), name)
    assert {m.value for m in enum} == set(STATUS_LABELS[name])
    for member in enum:
        assert label(member) and label(member) != member.value


def test_the_table_names_every_enum_the_test_knows() -> None:
    assert set(ENUMS) == set(STATUS_LABELS)


KIND_ENUMS = {
    "Role": "app.auth.models",
    "ProductKind": "app.quotes.models",
    "BillingFrequency": "app.invoices.models",
    "PaymentKind": "app.invoices.models",
    "RateKind": "app.invoices.models",
    "LateInterestRule": "app.terms.models",
}


@pytest.mark.parametrize("name", sorted(KIND_LABELS))
def test_every_kind_and_role_is_named_from_the_one_table(name: str) -> None:
    enum: type[StrEnum] = getattr(importlib.import_module(KIND_ENUMS[name]), name)
    assert {m.value for m in enum} == set(KIND_LABELS[name])
    for member in enum:
        # the enum's own property reads the table: no second list of words in the models
        assert member.label == label(member) == KIND_LABELS[name][member.value]  # type: ignore[attr-defined]
    assert not set(KIND_LABELS) & set(STATUS_LABELS)


def test_the_kind_table_names_every_enum_the_test_knows() -> None:
    assert set(KIND_ENUMS) == set(KIND_LABELS)


def test_every_document_kind_has_its_french_name() -> None:
    from app.documents.models import DocumentKind
    from app.rendering.labels import DOCUMENT_KIND_LABELS

    assert set(DOCUMENT_KIND_LABELS) == {kind.value for kind in DocumentKind}
