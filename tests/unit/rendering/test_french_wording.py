"""French wording helpers: "de" elided before a name, a capital to the first letter only,
and a CGV article cited by its heading without doubling "article" or its number."""

from __future__ import annotations

import pytest

from app.rendering.french import NBSP, article_reference, de, grouped_siren, upper_first


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("Élodie Dupré", "d'Élodie Dupré"),
        ("Anna Archiviste", "d'Anna Archiviste"),
        ("Œdipe Roi", "d'Œdipe Roi"),
        ("île", "d'île"),
        ("Yves Martin", "d'Yves Martin"),
        ("une application autorisée", "d'une application autorisée"),
        ("Paul Martin", "de Paul Martin"),
        ("Hugo Lenoir", "de Hugo Lenoir"),  # a "h" never elides: mute or not, we cannot tell
        ("Hélène Roy", "de Hélène Roy"),
        ("Yann Le Goff", "de Yann Le Goff"),  # "y" before a vowel is a consonant
        ("la plateforme", "de la plateforme"),
        ("l'utilisateur n° 3", "de l'utilisateur n° 3"),
        ("  Anna ", "d'Anna"),
    ],
)
def test_de_elides_before_a_vowel_only(name: str, said: str) -> None:
    assert de(name) == said


def test_upper_first_keeps_the_other_capitals() -> None:
    assert upper_first("taux de la Banque centrale européenne") == (
        "Taux de la Banque centrale européenne"
    )
    assert upper_first("") == ""


@pytest.mark.parametrize(
    ("title", "cited"),
    [
        ("Article 4. Prix et paiement", "article 4 (Prix et paiement)"),
        ("ARTICLE 17. NON-RENONCIATION", "article 17 (NON-RENONCIATION)"),
        ("Article 3 : Prix", "article 3 (Prix)"),
        ("Article 3 - Objet", "article 3 (Objet)"),
        ("3. Prix", "article 3 (Prix)"),
        ("7.3. Pénalités de retard", "article 7.3 (Pénalités de retard)"),
        ("7.3", "article 7.3"),
        ("Article 4", "article 4"),
        ("Pénalités", f"article «{NBSP}Pénalités{NBSP}»"),
    ],
)
def test_an_article_is_cited_once_by_its_number_and_title(title: str, cited: str) -> None:
    assert article_reference(title) == cited


@pytest.mark.parametrize(
    ("siren", "printed"),
    [
        ("732829320", f"732{NBSP}829{NBSP}320"),
        ("732 829 320", f"732{NBSP}829{NBSP}320"),
        ("HRB 12345", f"HRB{NBSP}12345"),  # a foreign registration: kept as typed, one line
        ("", ""),
    ],
)
def test_a_siren_is_grouped_by_three_on_one_line(siren: str, printed: str) -> None:
    assert grouped_siren(siren) == printed
