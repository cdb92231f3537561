"""Checks on French company identifiers. Pure functions."""

from __future__ import annotations

import re

# La Poste: its SIRETs break the Luhn rule (INSEE); listed so no future change to the
# checksum code rejects its SIREN either.
_LA_POSTE_SIREN = "356000000"


def normalise_siren(value: str) -> str:
    return re.sub(r"[\s.\u00a0\u202f-]", "", value)


def is_valid_siren(siren: str) -> bool:
    """A SIREN is 9 digits whose Luhn checksum is 0."""
    if not re.fullmatch(r"[0-9]{9}", siren):
        return False
    if siren == _LA_POSTE_SIREN:
        return True
    total = 0
    for index, char in enumerate(reversed(siren)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def fr_vat_key(siren: str) -> str:
    """The 2-digit key of a French VAT number: (12 + 3 × (SIREN mod 97)) mod 97."""
    return f"{(12 + 3 * (int(siren) % 97)) % 97:02d}"


def normalise_vat(value: str) -> str:
    return re.sub(r"[\s.\u00a0\u202f-]", "", value).upper()


def vat_problem(vat: str, siren: str) -> str | None:
    """Why a French VAT number is wrong for this SIREN, or None when it is right."""
    match = re.fullmatch(r"FR([0-9A-Z]{2})([0-9]{9})", vat)
    if not match:
        return "Le numéro de TVA doit avoir la forme FR + 2 caractères + SIREN (13 caractères)."
    key, vat_siren = match.groups()
    if vat_siren != siren:
        return "Le numéro de TVA ne correspond pas au SIREN."
    if key.isdigit() and key != fr_vat_key(siren):
        return "La clé du numéro de TVA est incorrecte."
    return None
