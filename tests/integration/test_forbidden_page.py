"""The refusal page (403) offers a way back: the dashboard, and « Changer de compte » (a
logout, then the login page) since the account may be the wrong one. Other error pages
offer the dashboard only; a visitor who is not signed in gets neither."""

from __future__ import annotations

from flask import Flask

from app.auth.models import Role
from tests.conftest import csrf_from
from tests.factories import login_as


def test_a_refusal_links_home_and_lets_one_change_account(app: Flask) -> None:
    sales = login_as(app, Role.SALES)
    refused = sales.get("/travaux/en-echec")
    assert refused.status_code == 403
    html = refused.get_data(as_text=True)
    assert "Votre rôle ne permet pas cette action." in html
    assert '<a class="button" href="/" id="back-home">Retour au tableau de bord</a>' in html
    assert 'action="/deconnexion"' in html.split('id="error-actions"', 1)[1]
    assert 'id="switch-account">Changer de compte</button>' in html

    switched = sales.post("/deconnexion", data={"csrf_token": csrf_from(html)})
    assert switched.status_code == 302 and switched.headers["Location"].endswith("/connexion")
    assert sales.get("/").status_code == 302  # signed out: the dashboard asks to sign in


def test_a_missing_page_links_home_without_changing_account(app: Flask) -> None:
    html = login_as(app, Role.SALES).get("/pas-de-page-ici").get_data(as_text=True)
    assert 'id="back-home"' in html and 'id="switch-account"' not in html


def test_a_visitor_signed_out_gets_no_dashboard_link(app: Flask) -> None:
    missing = app.test_client().get("/pas-de-page-ici")
    assert missing.status_code == 404
    assert 'id="error-actions"' not in missing.get_data(as_text=True)
