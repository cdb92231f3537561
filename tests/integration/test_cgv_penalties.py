"""Legal declares, when publishing a CGV version, the late-payment terms it states: the
declaration is checked against the text, every problem shown at once, nothing stored when
refused; the version's page shows what was declared."""

from __future__ import annotations

from decimal import Decimal
from html import unescape

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.auth.models import Role
from app.terms.models import CgvVersion, LateInterestRule
from tests.factories import login_as, session_of
from tests.integration.fixtures_security import field_errors
from tests.integration.helpers import publish_cgv

BODY = (
    "# CGV\n\n## Article 1. Objet\n\nLe service.\n\n"
    "## Article 7. Prix et paiement\n\n### 7.3. Pénalités\n\n"
    "Les sommes impayées portent intérêt à trois fois le taux d'intérêt légal.\n"
)


def _publish(browser: FlaskClient, **fields: str) -> TestResponse:
    page = browser.get("/cgv/nouvelle").get_data(as_text=True)
    assert "Taux des pénalités de retard que ces CGV énoncent" in page
    data = {
        "label": "5.0",
        "title": "Conditions générales de vente",
        "effective_date": "2024-01-01",
        "kind": "material",
        "summary": "",
        "body_markdown": BODY,
        **fields,
    }
    return publish_cgv(browser, data)


def _versions(app: Flask) -> list[CgvVersion]:
    with session_of(app) as session:
        return list(session.scalars(select(CgvVersion)).all())


def test_a_declaration_that_contradicts_the_text_is_refused_with_every_problem(
    app: Flask,
) -> None:
    legal = login_as(app, Role.LEGAL)
    refused = _publish(
        legal,
        late_interest_rule="ecb_plus_10",
        penalty_article="7.3",
        recovery_indemnity="trente",
    )
    assert refused.status_code == 422
    errors = field_errors(refused.get_data(as_text=True))
    assert errors["penalty_article"] == [
        "L'article 7.3 (Pénalités) n'énonce pas ce taux (taux d'intérêt appliqué par la "
        "Banque centrale européenne à son opération de refinancement la plus récente, majoré "
        "de 10 points de pourcentage)."
    ]
    assert errors["recovery_indemnity"] == ["Montant en euros attendu (ex. 40 ou 40,00)."]
    silent = _publish(legal, late_interest_rule="aucun", recovery_indemnity="30")
    assert silent.status_code == 422
    errors = field_errors(silent.get_data(as_text=True))
    assert "déclarez-le" in errors["late_interest_rule"][0]
    assert "au moins 40 €" in errors["recovery_indemnity"][0]
    assert _versions(app) == []


def test_the_declaration_is_stored_and_shown(app: Flask) -> None:
    legal = login_as(app, Role.LEGAL)
    done = _publish(
        legal,
        late_interest_rule="three_times_legal",
        penalty_article=" 7.3 ",
        recovery_indemnity="40,00",
    )
    assert done.status_code == 302, done.get_data(as_text=True)
    (version,) = _versions(app)
    assert (version.late_interest_rule, version.penalty_article, version.recovery_indemnity) == (
        LateInterestRule.THREE_TIMES_LEGAL,
        "7.3. Pénalités",
        Decimal("40.00"),
    )
    page = unescape(legal.get(done.headers["Location"]).get_data(as_text=True))
    assert "trois fois le taux d'intérêt légal, selon l'article 7.3 (Pénalités)" in page
    assert "article « " not in page


def test_by_default_the_rule_is_read_from_the_text(app: Flask) -> None:
    legal = login_as(app, Role.LEGAL)
    contradictory = BODY + "\n## Article 9. Divers\n\nPénalités : taux BCE majoré de 10 points.\n"
    refused = _publish(legal, body_markdown=contradictory)
    assert refused.status_code == 422
    assert "contradictoires" in field_errors(refused.get_data(as_text=True))["body_markdown"][0]
    assert _versions(app) == []
    assert _publish(legal).status_code == 302
    (version,) = _versions(app)
    assert (version.late_interest_rule, version.penalty_article) == (
        LateInterestRule.THREE_TIMES_LEGAL,
        "7.3. Pénalités",
    )


def test_the_rate_options_keep_the_capitals_of_their_labels(app: Flask) -> None:
    page = unescape(login_as(app, Role.LEGAL).get("/cgv/nouvelle").get_data(as_text=True))
    assert ">Taux d'intérêt appliqué par la Banque centrale européenne à son opération" in page
    assert "banque centrale" not in page
    assert ">Trois fois le taux d'intérêt légal</option>" in page
