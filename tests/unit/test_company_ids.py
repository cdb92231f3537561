"""French company identifiers: SIREN (Luhn key, La Poste exception) and the FR VAT key."""

from __future__ import annotations

import pytest

from app.clients.rules import (
    EU_COUNTRIES,
    folded,
    fr_vat_key,
    is_valid_siren,
    normalise_siren,
    normalise_vat,
    vat_problem,
)


def luhn_ok(digits: str) -> bool:
    """An independent Luhn check, to show which examples the rule itself accepts."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


@pytest.mark.parametrize(
    "siren",
    ["552100554", "732829320", "542107651", "443061841", "652014051", "005520135", "100000207"],
)
def test_valid_sirens(siren: str) -> None:
    assert luhn_ok(siren)
    assert is_valid_siren(siren)


def test_la_poste_is_accepted() -> None:
    # La Poste's SIREN is itself Luhn-valid; the INSEE exception concerns its SIRETs
    # (356 000 000 + NIC), whose digit sum is a multiple of 5 instead. Either way: accepted.
    assert luhn_ok("356000000")
    assert is_valid_siren("356000000")
    # the exception is that exact number, not its neighbours
    assert not is_valid_siren("356000001")
    assert not is_valid_siren("356000009")


@pytest.mark.parametrize(
    "siren",
    [
        "552100555",  # last digit off by one
        "552100545",  # two digits swapped
        "123456789",
        "000000001",
        "55210055",  # 8 digits
        "5521005540",  # 10 digits
        "55210055A",
        "552 100 554",  # not normalised: is_valid_siren takes 9 digits only
        "",
        "+55210055",
        "-55210055",
    ],
)
def test_invalid_sirens(siren: str) -> None:
    assert not is_valid_siren(siren)


def test_a_single_changed_digit_is_always_caught() -> None:
    base = "732829320"
    for position in range(9):
        for digit in "0123456789":
            if digit != base[position]:
                changed = base[:position] + digit + base[position + 1 :]
                assert not is_valid_siren(changed), changed


@pytest.mark.parametrize("siren", ["５５２１００５５４", "٥٥٢١٠٠٥٥٤"])
def test_non_ascii_digits_are_not_a_siren(siren: str) -> None:
    assert not is_valid_siren(siren)


@pytest.mark.parametrize(
    "raw",
    [
        "552100554",
        "552 100 554",
        "552.100.554",
        "552-100-554",
        "552\u00a0100\u00a0554",
        "552\u202f100\u202f554",
        " 552 100 554 ",
    ],
)
def test_normalise_siren(raw: str) -> None:
    assert normalise_siren(raw.strip()) == "552100554"


@pytest.mark.parametrize(
    ("siren", "key"),
    [
        ("732829320", "44"),
        ("552100554", "96"),
        ("356000000", "39"),
        ("542107651", "13"),
        ("100000207", "03"),
    ],  # keys under 10 keep their leading zero
)
def test_vat_key(siren: str, key: str) -> None:
    assert fr_vat_key(siren) == key
    assert (12 + 3 * (int(siren) % 97)) % 97 == int(key)  # the published formula
    assert vat_problem(f"FR{key}{siren}", siren) is None


def test_vat_number_examples() -> None:
    assert normalise_vat("fr 44 732 829 320") == "FR44732829320"
    assert normalise_vat("FR44.732.829.320") == "FR44732829320"
    assert vat_problem("FR44732829320", "732829320") is None
    assert vat_problem("FR45732829320", "732829320") == "La clé du numéro de TVA est incorrecte."
    assert vat_problem("FR44732829320", "552100554") == (
        "Le numéro de TVA ne correspond pas au SIREN."
    )
    for malformed in (
        "FR4473282932",
        "FR447328293200",
        "DE123456789",
        "44732829320",
        "FR-44732829320",
        "fr44732829320",
    ):
        problem = vat_problem(malformed, "732829320")
        assert problem is not None and "FR + 2 caractères + SIREN" in problem, malformed
    # letter keys (numbers attributed to entities without the numeric key) are not computed
    assert vat_problem("FRXY732829320", "732829320") is None


def test_with_no_valid_siren_to_compare_the_vat_numbers_form_is_still_checked() -> None:
    """A bad SIREN has its own message; the VAT number's form is told in the same answer,
    not after the SIREN is fixed (its match with the SIREN cannot be checked yet)."""
    problem = vat_problem("FR00", None)
    assert problem is not None and "FR + 2 caractères + SIREN" in problem
    assert vat_problem("FR44552100554", None) is None


def test_countries_are_listed_in_french_order_france_first() -> None:
    """« Roumanie » before « Tchéquie », « Suède » (accent ignored) between « Slovénie » and
    « Tchéquie »: the client form lists the names as a French reader looks for them."""
    names = list(EU_COUNTRIES.values())
    assert names[0] == "France"
    assert names[1:] == sorted(names[1:], key=folded)
    assert names.index("Roumanie") < names.index("Tchéquie")


def test_folded_ignores_accents_case_and_repeated_blanks() -> None:
    assert folded("  Dupré\u00a0 FRÈRES ") == "dupre freres"
    assert folded("Zoë Œuvre") == folded("zoe œuvre")
