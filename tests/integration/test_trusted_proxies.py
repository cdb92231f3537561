"""The client's address behind reverse proxies (PARAPHE_TRUSTED_PROXIES): it keys the rate
limits and goes into the evidence files, so it must be the real client's when the service
sits behind nginx, and must not be forgeable when it does not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Role
from app.config import Settings
from tests.conftest import csrf_from
from tests.factories import make_fast_user

LIMIT = 10  # failed logins per minute and per address (app/auth/views.py)


@pytest.fixture
def behind_proxy(settings: Settings, make_app: Callable[[Settings], Flask]) -> Flask:
    return make_app(replace(settings, trusted_proxies=1))


def _failed_logins(browser: FlaskClient, forwarded_for: str, count: int) -> list[int]:
    address = "sales@example.test"
    token = csrf_from(browser.get("/connexion").get_data(as_text=True))
    return [
        browser.post(
            "/connexion",
            data={"csrf_token": token, "email": address, "password": f"essai-{n}"},
            headers={"X-Forwarded-For": forwarded_for},
        ).status_code
        for n in range(count)
    ]


def test_without_a_trusted_proxy_the_header_is_ignored(app: Flask) -> None:
    make_fast_user(app, Role.SALES, "sales@example.test")
    browser = app.test_client()
    # A guesser who rotates forged addresses still shares one bucket: its real address.
    statuses = [_failed_logins(browser, f"198.51.100.{n}", 1)[0] for n in range(LIMIT + 1)]
    assert statuses == [401] * LIMIT + [429]


def test_behind_one_proxy_each_client_has_its_own_limit(behind_proxy: Flask) -> None:
    make_fast_user(behind_proxy, Role.SALES, "sales@example.test")
    browser = behind_proxy.test_client()
    assert _failed_logins(browser, "203.0.113.7", LIMIT + 1) == [401] * LIMIT + [429]
    # Another client behind the same proxy is not locked out by the first one.
    assert _failed_logins(browser, "203.0.113.8", 1) == [401]
    # The limited client cannot escape by prepending a forged address: the proxy appends the
    # real one, and only the last hop is believed.
    assert _failed_logins(browser, "192.0.2.1, 203.0.113.7", 1) == [429]


def test_the_application_sees_the_client_address_and_scheme(behind_proxy: Flask) -> None:
    seen: list[str | None] = []

    @behind_proxy.get("/_test/ip")
    def ip() -> str:
        from flask import request

        seen.append(request.remote_addr)
        return request.scheme

    response = behind_proxy.test_client().get(
        "/_test/ip", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    )
    assert response.get_data(as_text=True) == "https"
    assert seen == ["203.0.113.9"]
