"""A staff sign-in and a client space's sign-in may share one browser (a salesperson looking
at what the client sees, a demo): each one's login and logout leaves the other alone."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Role
from tests.conftest import csrf_from
from tests.factories import login, make_client, make_user
from tests.factories.space import add_billing_contact, sign_in_space

SPACE = "/espace-client/"
STAFF = "/clients/"
CONTACT = "compta@client.example"


def _in_space(browser: FlaskClient) -> bool:
    return f"Connecté avec {CONTACT}" in browser.get(SPACE).get_data(as_text=True)


def _staff_in(browser: FlaskClient) -> bool:
    response = browser.get(STAFF)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_a_staff_login_and_logout_keep_the_space_open(app: Flask) -> None:
    add_billing_contact(app, make_client(app), CONTACT)
    browser = sign_in_space(app, app.test_client(), CONTACT)
    assert _in_space(browser) and not _staff_in(browser)

    login(browser, make_user(app, Role.SALES))
    assert _staff_in(browser) and _in_space(browser)

    token = csrf_from(browser.get(STAFF).get_data(as_text=True))
    assert browser.post("/deconnexion", data={"csrf_token": token}).status_code == 302
    assert not _staff_in(browser)
    assert _in_space(browser)


def test_a_space_sign_in_and_sign_out_keep_the_staff_session(app: Flask) -> None:
    add_billing_contact(app, make_client(app), CONTACT)
    browser = app.test_client()
    login(browser, make_user(app, Role.SALES))

    sign_in_space(app, browser, CONTACT)
    assert _in_space(browser) and _staff_in(browser)

    token = csrf_from(browser.get(SPACE).get_data(as_text=True))
    assert browser.post("/espace-client/deconnexion", data={"csrf_token": token}).status_code == 302
    assert not _in_space(browser)
    assert _staff_in(browser)
