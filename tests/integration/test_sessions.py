"""A session ends everywhere: a cookie copied before a logout, a password change or a
deactivation is refused on its very next request, in any browser, on any server process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Role
from app.config import Settings
from app.factory import create_app
from tests.conftest import csrf_from
from tests.factories import login, make_user

PROTECTED = "/clients/"


def _browser_with_copy(app: Flask) -> tuple[FlaskClient, FlaskClient, str]:
    """A logged-in browser, and a second one holding a copy of its session cookie."""
    address = make_user(app, Role.SALES)
    browser = app.test_client()
    login(browser, address)
    cookie = browser.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get(PROTECTED).status_code == 200  # the copy works before the event
    return browser, thief, address


def _refused(browser: FlaskClient) -> bool:
    response = browser.get(PROTECTED)
    return response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_logout_ends_every_session_of_the_user(app: Flask) -> None:
    browser, thief, _address = _browser_with_copy(app)
    token = csrf_from(browser.get(PROTECTED).get_data(as_text=True))
    assert browser.post("/deconnexion", data={"csrf_token": token}).status_code == 302
    assert _refused(browser)
    assert _refused(thief)


def test_a_password_change_ends_every_session_of_the_user(app: Flask) -> None:
    browser, thief, address = _browser_with_copy(app)
    result = app.test_cli_runner().invoke(
        args=["users", "password", "--email", address, "--password", "un-autre-mot-de-passe"]
    )
    assert result.exit_code == 0, result.output
    assert "sessions sont fermées" in result.output
    assert _refused(browser)
    assert _refused(thief)
    login(browser, address, "un-autre-mot-de-passe")  # the new password opens a new session
    assert browser.get(PROTECTED).status_code == 200


def test_a_deactivation_ends_every_session_of_the_user(app: Flask) -> None:
    browser, thief, address = _browser_with_copy(app)
    result = app.test_cli_runner().invoke(args=["users", "deactivate", "--email", address])
    assert result.exit_code == 0, result.output
    assert _refused(browser)
    assert _refused(thief)


def test_a_logout_is_seen_by_another_server_process(
    app: Flask, settings: Settings, make_app: Callable[[Settings], Flask]
) -> None:
    """Two applications on one database stand for two `paraphe serve` workers."""
    other = make_app(settings)
    browser, _thief, _address = _browser_with_copy(app)
    cookie = browser.get_cookie("session")
    assert cookie is not None
    elsewhere = other.test_client()
    elsewhere.set_cookie("session", cookie.value)
    assert elsewhere.get(PROTECTED).status_code == 200
    token = csrf_from(browser.get(PROTECTED).get_data(as_text=True))
    browser.post("/deconnexion", data={"csrf_token": token})
    assert _refused(elsewhere)


def test_an_unknown_user_is_refused_by_the_cli(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["users", "deactivate", "--email", "x@example.test"])
    assert result.exit_code != 0 and "Aucun utilisateur x@example.test" in result.output


def test_cookies_are_secure_and_hsts_is_sent_over_https(settings: Settings) -> None:
    app = create_app(replace(settings, base_url="https://paraphe.example.test"))
    try:
        client = app.test_client()
        response = client.get("/connexion", base_url="https://paraphe.example.test")
        assert "max-age=" in response.headers["Strict-Transport-Security"]
        assert "Secure" in response.headers["Set-Cookie"]
        assert "HttpOnly" in response.headers["Set-Cookie"]
    finally:
        app.extensions["paraphe"].engine.dispose()


def test_no_secure_cookie_nor_hsts_over_plain_http(app: Flask) -> None:
    response = app.test_client().get("/connexion")
    assert "Strict-Transport-Security" not in response.headers
    assert "Secure" not in response.headers["Set-Cookie"]
