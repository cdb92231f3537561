"""A character the documents' fonts cannot print (an emoji in a client name) is refused by the
forms with a French field error naming it, and nothing is stored (issue 12)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.auth.models import Role
from app.clients.models import Client
from app.quotes.models import Quote
from tests.factories import (
    VALID_CLIENT,
    count,
    login_as,
    make_client,
    make_quote,
    publish_short_cgv,
)
from tests.integration.fixtures_security import field_errors, line_cell_errors, logged_in_csrf
from tests.integration.helpers import post_one_line_quote

EMOJI_ERROR = "« 🥐 » (U+1F950)"


def _submit_client(sales: FlaskClient, **typed: str) -> TestResponse:
    """The new client form submitted with a valid client's fields, `typed` over them."""
    return sales.post(
        "/clients/nouveau", data={"csrf_token": logged_in_csrf(sales), **VALID_CLIENT, **typed}
    )


def test_the_client_form_refuses_an_emoji_naming_it(app: Flask) -> None:
    sales = login_as(app, Role.SALES)
    response = _submit_client(
        sales, legal_name="Boulangerie 🥐 Lefèvre", signer_name="Zoë 😀 Martin", city="Lyon"
    )
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True))
    assert any(EMOJI_ERROR in e for e in errors["legal_name"]), errors
    assert any("« 😀 » (U+1F600)" in e for e in errors["signer_name"]), errors
    assert "city" not in errors
    assert count(app, Client) == 0
    # European names print: accepted
    accepted = _submit_client(sales, legal_name="Ødegård & Łukasz — Œuvres « l’été »")
    assert accepted.status_code == 302, accepted.get_data(as_text=True)[:500]


def test_quote_and_contract_texts_refuse_an_emoji_naming_it(app: Flask) -> None:
    publish_short_cgv(app)
    client_id = make_client(app)
    sales = login_as(app, Role.SALES)
    response = post_one_line_quote(
        sales, client_id, "Abonnement 🥐", "Livraison\r\nde 🥐 chaque matin"
    )
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True))
    assert any(EMOJI_ERROR in e for e in errors["particular_terms"]), errors
    assert count(app, Quote) == 0
    cells = line_cell_errors(response.get_data(as_text=True))
    assert any(EMOJI_ERROR in e for e in cells["lines-0-designation"]), cells

    quote_id = make_quote(app, client_id)
    refused = sales.post(
        f"/contrats/generer/{quote_id}",
        data={"csrf_token": logged_in_csrf(sales), "free_text": "Remise 🥐"},
    )
    assert refused.status_code == 422
    assert EMOJI_ERROR in refused.get_data(as_text=True)
