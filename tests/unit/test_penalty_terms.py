"""Where an invoice's late-payment terms come from: what a CGV text states, what legal
declares at publication, what a particular term overrides; and who is reverse-charged."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.invoices import rules
from app.invoices.late_payment import CgvPenalties, PenaltyTerms, penalty_terms
from app.terms.models import LateInterestRule
from app.terms.rules import declared_penalty_problems, stated_penalties, stated_rule
from tests.shared_fixtures import CGV_FIXTURE, REPO_ROOT

ECB = LateInterestRule.ECB_PLUS_10
THREE = LateInterestRule.THREE_TIMES_LEGAL
FORTY = Decimal("40.00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("des pénalités au taux de la BCE majoré de 10 points ;", {ECB}),
        (
            "au taux appliqué par la Banque centrale européenne, à l'échéance, pour ses "
            "opérations en euros, augmenté de dix (10) points de pourcentage.",
            {ECB},
        ),
        ("Intérêts : taux BCE + 10 points.", {ECB}),
        ("Pénalités égales à trois (3) fois le taux de l'intérêt légal.", {THREE}),
        ("Pénalités égales à 3 fois le taux d'intérêt légal.", {THREE}),
        (
            "taux BCE majoré de 10 points, qui ne peut être inférieur à trois fois le taux "
            "d'intérêt légal",
            {ECB},  # the floor is the law's, not a second rule
        ),
        ("Le taux d'intérêt légal s'applique.", set()),
        ("Le Client paie à 30 jours.", set()),
    ],
)
def test_the_rule_a_passage_states(text: str, expected: set[LateInterestRule]) -> None:
    assert stated_rule(text) == expected


def test_the_real_cgv_fixtures_state_ecb_plus_10_in_their_article() -> None:
    stated, problem = stated_penalties(CGV_FIXTURE.read_text(encoding="utf-8"))
    assert problem is None
    assert (stated.rule, stated.article) == (ECB, "7.3. PÉNALITÉS DE RETARD ET DÉFAUT DE PAIEMENT")
    demo = (REPO_ROOT / "app" / "demo" / "cgv-demo.md").read_text(encoding="utf-8")
    assert stated_penalties(demo)[0] == type(stated)(ECB, "Article 4. Prix et paiement")


def test_two_articles_with_different_rules_are_a_contradiction() -> None:
    body = (
        "## Article 4. Paiement\n\nPénalités : taux BCE majoré de 10 points.\n\n"
        "## Article 9. Divers\n\nPénalités : trois fois le taux d'intérêt légal.\n"
    )
    stated, problem = stated_penalties(body)
    assert stated.rule is None
    assert problem is not None and "Article 4. Paiement" in problem and "Article 9" in problem


BODY = (
    "# CGV\n\n## Article 1. Objet\n\nTexte.\n\n"
    "## Article 7. Paiement\n\n### 7.3. Pénalités\n\n"
    "Intérêts de retard : trois fois le taux d'intérêt légal.\n"
)


@pytest.mark.parametrize(
    ("rule", "article", "indemnity", "expected"),
    [
        (THREE, "7.3", FORTY, set()),
        (THREE, "7.3. Pénalités", Decimal("60"), set()),
        (ECB, "7.3", FORTY, {"penalty_article"}),  # the article says something else
        (THREE, "7.4", FORTY, {"penalty_article"}),  # no such article
        (THREE, "7", FORTY, {"penalty_article"}),  # « 7 » is not « 7.3 »
        (THREE, None, FORTY, {"penalty_article"}),  # a rule needs its article
        (None, None, FORTY, {"late_interest_rule"}),  # the text states one: declare it
        (None, "7.3", FORTY, {"late_interest_rule"}),
        (THREE, "7.3", Decimal("39.99"), {"recovery_indemnity"}),  # D441-5: at least 40 €
        (THREE, "7.3", Decimal("40.001"), {"recovery_indemnity"}),
    ],
)
def test_what_legal_declares_is_checked_against_the_text(
    rule: LateInterestRule | None, article: str | None, indemnity: Decimal, expected: set[str]
) -> None:
    assert set(declared_penalty_problems(BODY, rule, article, indemnity)) == expected


def test_the_refusals_cite_the_article_once() -> None:
    """A heading that starts with « Article » is cited as « article 9 (…) », never
    « l'article « Article 9. … » »; a number typed alone reads « article 7.4 »."""
    body = BODY + "\n## Article 9. Retard de paiement\n\nLe Client paie à 30 jours.\n"
    wrong_rate = declared_penalty_problems(body, THREE, "Article 9", FORTY)["penalty_article"]
    assert wrong_rate == (
        "L'article 9 (Retard de paiement) n'énonce pas ce taux (trois fois le taux d'intérêt "
        "légal)."
    )
    missing = declared_penalty_problems(BODY, THREE, "Article 12", FORTY)["penalty_article"]
    assert missing == "Aucun article 12 dans le texte des CGV."
    demo = "## Article 4. Prix et paiement\n\nPénalités : taux BCE majoré de 10 points.\n"
    undeclared = declared_penalty_problems(demo, None, None, FORTY)["late_interest_rule"]
    assert undeclared.startswith("Le texte énonce un taux (")
    assert undeclared.endswith(", article 4 (Prix et paiement)) : déclarez-le.")
    assert "Article" not in undeclared


def test_a_version_silent_on_the_rate_is_declared_silent() -> None:
    silent = "## Article 1. Objet\n\nTexte.\n"
    assert declared_penalty_problems(silent, None, None, FORTY) == {}


CGV = CgvPenalties("2.2", THREE, "7.3. Pénalités", FORTY)


def test_the_cgv_version_gives_the_terms_and_says_where() -> None:
    assert penalty_terms(CGV, []) == (
        PenaltyTerms(THREE, FORTY, "CGV version 2.2, article 7.3 (Pénalités)"),
        None,
    )
    unrelated = [("Conditions particulières", "Remise de 10 % la première année.")]
    assert penalty_terms(CGV, unrelated)[0] == penalty_terms(CGV, [])[0]


def test_a_silent_version_falls_back_on_the_law_and_says_so() -> None:
    terms, _ = penalty_terms(CgvPenalties("1.0", None, None, FORTY), [])
    assert terms is not None and terms.rule is ECB
    assert terms.source == (
        "CGV version 1.0, muettes sur le taux : taux de l'article L441-10 du Code de commerce"
    )


def test_a_particular_term_prevails_over_the_cgv() -> None:
    terms, _ = penalty_terms(
        CGV, [("Dérogations", "Les pénalités de retard sont au taux BCE majoré de 10 points.")]
    )
    assert terms == PenaltyTerms(
        ECB, FORTY, "taux : conditions particulières, « Dérogations » ; indemnité : CGV version 2.2"
    )
    only_indemnity, _ = penalty_terms(
        CGV, [("Frais", "L'indemnité forfaitaire de recouvrement est de 100 euros.")]
    )
    assert only_indemnity is not None
    assert (only_indemnity.rule, only_indemnity.indemnity) == (THREE, Decimal("100.00"))
    below, _ = penalty_terms(CGV, [("Frais", "Indemnité forfaitaire : 20 €.")])
    assert below is not None and below.indemnity == FORTY  # never below the law's 40 €


def test_contradictory_particular_terms_are_not_guessed() -> None:
    terms, problem = penalty_terms(
        CGV,
        [
            ("A", "Pénalités : taux BCE majoré de 10 points."),
            ("B", "Pénalités : trois fois le taux d'intérêt légal."),
        ],
    )
    assert terms is None and problem is not None and "« A », « B »" in problem


@pytest.mark.parametrize(
    ("country", "vat", "expected"),
    [
        ("DE", "DE136695976", True),
        ("be", "BE0403170701", True),
        ("GR", "EL094014201", True),
        ("FR", "FR96552100554", False),  # a French client pays French VAT
        ("DE", "", False),  # no VAT number: not identified as a business for VAT
        ("DE", None, False),
        ("CH", "CHE116281710", False),  # outside the EU: not this mechanism
        ("GB", "GB980780684", False),
    ],
)
def test_who_is_reverse_charged(country: str, vat: str | None, expected: bool) -> None:
    assert rules.reverse_charge_applies(country, vat) is expected
