from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from app.rendering.french import (
    NBSP,
    NNBSP,
    format_amount,
    format_date,
    format_datetime,
    format_day_month,
    format_decimal,
    format_percent,
    typographie,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1234.56"), f"1{NNBSP}234,56{NBSP}€"),
        (Decimal("0"), f"0,00{NBSP}€"),
        (Decimal("5"), f"5,00{NBSP}€"),
        (Decimal("999.9"), f"999,90{NBSP}€"),
        (Decimal("1234567.8"), f"1{NNBSP}234{NNBSP}567,80{NBSP}€"),
        (Decimal("-1234.5"), f"\u22121{NNBSP}234,50{NBSP}€"),  # the minus sign, not "-"
        (Decimal("-0.001"), f"0,00{NBSP}€"),
        (Decimal("0.005"), f"0,01{NBSP}€"),  # half-up, like app.pricing.totals
        (Decimal("1E+3"), f"1{NNBSP}000,00{NBSP}€"),
        (12, f"12,00{NBSP}€"),
    ],
)
def test_format_amount(value: Decimal, expected: str) -> None:
    assert format_amount(value) == expected


def test_format_amount_example_from_the_spec() -> None:
    assert format_amount(Decimal("1234.56")) == "1\u202f234,56\u00a0€"


@pytest.mark.parametrize("value", [1.5, "12", True, None])
def test_money_is_decimal_never_float(value: Any) -> None:
    with pytest.raises(TypeError):
        format_amount(value)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_non_finite_numbers_are_refused(value: Decimal) -> None:
    with pytest.raises(ValueError, match="non fini"):
        format_decimal(value)


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (Decimal("1.50"), None, "1,5"),
        (Decimal("2.000"), None, "2"),
        (Decimal("100"), None, "100"),
        (Decimal("12345.678"), None, f"12{NNBSP}345,678"),
        (Decimal("1234"), 0, f"1{NNBSP}234"),
        (Decimal("2.5"), 3, "2,500"),
        (Decimal("0.125"), 2, "0,13"),
        (Decimal("-1234.5"), None, f"\u22121{NNBSP}234,5"),
    ],
)
def test_format_decimal(value: Decimal, places: int | None, expected: str) -> None:
    assert format_decimal(value, places) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("20"), f"20{NBSP}%"),
        (Decimal("20.00"), f"20{NBSP}%"),
        (Decimal("5.5"), f"5,5{NBSP}%"),
        (Decimal("2.10"), f"2,1{NBSP}%"),
        (Decimal("0"), f"0{NBSP}%"),
        (Decimal("-10"), f"\u221210{NBSP}%"),  # a discount rate: the minus sign
    ],
)
def test_format_percent(value: Decimal, expected: str) -> None:
    assert format_percent(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2022, 9, 4), "4 septembre 2022"),
        (date(2024, 3, 1), "1er mars 2024"),
        (date(2026, 2, 28), "28 février 2026"),
        (date(2025, 8, 15), "15 août 2025"),
        (date(2025, 12, 31), "31 décembre 2025"),
    ],
)
def test_format_date(value: date, expected: str) -> None:
    assert format_date(value) == expected


def test_format_day_month_for_a_yearly_date() -> None:
    assert format_day_month(date(2026, 3, 15)) == "15 mars"
    assert format_day_month(date(2027, 1, 1)) == "1er janvier"


def test_format_date_converts_an_aware_datetime_to_paris() -> None:
    # 23:30 UTC on 28 February is already 1 March in Paris.
    assert format_date(datetime(2024, 2, 29, 23, 30, tzinfo=UTC)) == "1er mars 2024"


def test_format_datetime_shows_paris_time_in_summer_and_winter() -> None:
    assert format_datetime(datetime(2022, 9, 4, 12, 5, tzinfo=UTC)) == (
        f"4 septembre 2022 à 14{NBSP}h{NBSP}05"
    )
    assert format_datetime(datetime(2026, 1, 15, 8, 0, tzinfo=UTC)) == (
        f"15 janvier 2026 à 9{NBSP}h{NBSP}00"
    )


def test_format_datetime_accepts_any_aware_timezone() -> None:
    new_york = timezone(timedelta(hours=-4))
    assert format_datetime(datetime(2022, 9, 4, 8, 5, tzinfo=new_york)) == (
        f"4 septembre 2022 à 14{NBSP}h{NBSP}05"
    )


def test_naive_datetimes_are_refused() -> None:
    naive = datetime.fromisoformat("2022-09-04T14:05")
    with pytest.raises(ValueError, match="fuseau"):
        format_datetime(naive)
    with pytest.raises(ValueError, match="fuseau"):
        format_date(naive)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Préavis : 3 mois", f"Préavis{NBSP}: 3 mois"),
        ("Préavis: 3 mois", f"Préavis{NBSP}: 3 mois"),
        ("Vraiment ?", f"Vraiment{NNBSP}?"),
        ("Vraiment?", f"Vraiment{NNBSP}?"),
        ("Attention !", f"Attention{NNBSP}!"),
        ("un ; deux", f"un{NNBSP}; deux"),
        ("Quoi ?!", f"Quoi{NNBSP}?!"),
        ("Quoi?!", f"Quoi{NNBSP}?!"),
        ('le "Site" est', f"le «{NBSP}Site{NBSP}» est"),
        ('("Site")', f"(«{NBSP}Site{NBSP}»)"),
        ('"Site" : ici', f"«{NBSP}Site{NBSP}»{NBSP}: ici"),
        ("le « Site » est", f"le «{NBSP}Site{NBSP}» est"),
        ("le «Site» est", f"le «{NBSP}Site{NBSP}» est"),
    ],
)
def test_typographie(text: str, expected: str) -> None:
    assert typographie(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "https://www.dendreo.com/conditions?id=3",
        "À 14:05 précises",
        "ratio 3:1",
        "mailto:support@dendreo.com",
        '<img src="http://evil/x.png">',
        "url(file:///etc/passwd)",
        "{{ 7*7 }}",
        "<script>alert(1)</script>",
        'un seul " guillemet',
        "",
    ],
)
def test_typographie_leaves_code_like_text_alone(text: str) -> None:
    assert typographie(text) == text


@pytest.mark.parametrize(
    "text",
    [
        'Le "Client" : personne morale ; voir ?',
        "Déjà «\u00a0fait\u00a0»\u00a0: oui\u202f!",
        "« Abonnement » : niveau d’Offre ; soit ! soit ?",
    ],
)
def test_typographie_is_idempotent(text: str) -> None:
    once = typographie(text)
    assert typographie(once) == once


def test_typographie_keeps_existing_no_break_spaces() -> None:
    text = f"Déjà{NBSP}: fait{NNBSP}!"
    assert typographie(text) == text
