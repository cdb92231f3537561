"""Users, API tokens and logged-in browsers."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from app.auth.models import Role, Scope, User
from app.auth.services import create_api_token, create_user
from app.db import transaction, utcnow
from tests.conftest import csrf_from
from tests.factories.db import runtime

PASSWORD = "un-mot-de-passe-solide"


def make_user(app: Flask, role: Role, email_addr: str | None = None) -> str:
    """A user created by the service, with the production password hash (scrypt)."""
    address = email_addr or f"{role.value}@example.test"
    with transaction(runtime(app).session_factory) as session:
        create_user(
            session,
            email=address,
            full_name=f"Test {role.label}",
            role=role,
            password=PASSWORD,
            now=datetime.now().astimezone(),
        )
    return address


def make_fast_user(app: Flask, role: Role, email_addr: str | None = None) -> str:
    """A user like `make_user`, with a cheap password hash: scrypt costs a tenth of a second
    per hash and per login, which adds up over a matrix of roles."""
    address = email_addr or f"{role.value}@example.test"
    with transaction(runtime(app).session_factory) as session:
        session.add(
            User(
                email=address,
                full_name=f"Test {role.label}",
                role=role,
                password_hash=generate_password_hash(PASSWORD, "pbkdf2:sha256:1000"),
                active=True,
                created_at=utcnow(),
            )
        )
    return address


def make_token(app: Flask, *scopes: Scope) -> str:
    """An API token with `scopes`; returns its plaintext (what a client sends)."""
    with transaction(runtime(app).session_factory) as session:
        _token, plaintext = create_api_token(
            session, name="test", scopes=scopes, now=datetime.now().astimezone()
        )
    return plaintext


def crm_writer(app: Flask) -> dict[str, str]:
    """The headers of a CRM's requests: a new token that reads and writes."""
    return {"Authorization": f"Bearer {make_token(app, Scope.WRITE, Scope.READ)}"}


def submit_login(client: FlaskClient, address: str, password: str = PASSWORD) -> TestResponse:
    """The login form filled in and sent by `client`, as a browser would; its answer (a 302
    when the login succeeds)."""
    page = client.get("/connexion")
    return client.post(
        "/connexion",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "email": address,
            "password": password,
        },
    )


def login(client: FlaskClient, address: str, password: str = PASSWORD) -> None:
    """Log `client` in through the login form, as a browser would."""
    response = submit_login(client, address, password)
    assert response.status_code == 302, response.get_data(as_text=True)


def login_as(app: Flask, role: Role) -> FlaskClient:
    """A new browser, logged in through the login form as a new user of `role`."""
    browser = app.test_client()
    login(browser, make_fast_user(app, role))
    return browser
