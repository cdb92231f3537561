"""The archivist API facing missing, wrong or insufficient credentials and malformed input:
always an RFC 9457 problem+json answer with the right status, and nothing written.

Cheap variants of one refusal share one setup (`check_each` reports every failing case)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.audit.models import AuditEvent
from app.auth.models import ApiToken, Scope
from app.auth.services import create_api_token, revoke_api_token, token_digest
from app.clients.models import Client, ClientStatus
from app.db import transaction, utcnow
from tests.factories import count, deposit_document, make_client, make_token, runtime, session_of
from tests.integration.fixtures_security import ON_POSTGRES, check_each
from tests.integration.helpers import problem_fields


@dataclass(frozen=True)
class Api:
    client_id: int
    document_id: int
    read: str
    restitution: str
    both: str


@pytest.fixture
def api(app: Flask) -> Api:
    client_id = make_client(app)
    document_id = deposit_document(app, client_id)
    return Api(
        client_id=client_id,
        document_id=document_id,
        read=make_token(app, Scope.READ),
        restitution=make_token(app, Scope.RESTITUTION),
        both=make_token(app, Scope.READ, Scope.RESTITUTION),
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json", response.mimetype
    body: dict[str, Any] = json.loads(response.get_data(as_text=True))
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    # never a stack trace or a driver message in what an API client receives
    text = json.dumps(body, ensure_ascii=False).lower()
    assert "traceback" not in text and "sqlalchemy" not in text and "select " not in text
    return body


def json_of(response: TestResponse) -> dict[str, Any]:
    body = response.get_json()
    assert isinstance(body, dict), response.get_data(as_text=True)[:300]
    return body


def assert_client_untouched(app: Flask, client_id: int) -> None:
    with session_of(app) as session:
        client = session.get(Client, client_id)
        assert client is not None
        assert client.status is ClientStatus.ACTIVE
        assert client.terminated_on is None and client.termination_reason is None
    assert count(app, AuditEvent, AuditEvent.action == "client.terminated") == 0


def every_api_call(api: Api) -> list[tuple[str, str]]:
    c, d = api.client_id, api.document_id
    return [
        ("GET", "/api/v1/documents"),
        ("GET", f"/api/v1/documents/{d}"),
        ("GET", f"/api/v1/documents/{d}/content"),
        ("POST", f"/api/v1/clients/{c}/termination"),
        ("GET", f"/api/v1/clients/{c}/restitution"),
        ("GET", f"/api/v1/clients/{c}/cgv-acceptances"),
    ]


def call(client: FlaskClient, method: str, url: str, headers: dict[str, str]) -> TestResponse:
    body = {"terminated_on": "2026-12-31"} if method == "POST" else None
    return client.open(url, method=method, headers=headers, json=body)


# --- authentication -------------------------------------------------------------------------


def test_no_bearer_token_is_401_problem_with_challenge(
    app: Flask, client: FlaskClient, api: Api
) -> None:
    variants = [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer    "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": f"Token {api.both}"},
        {"X-Api-Key": api.both},
    ]

    def check(headers: dict[str, str], method: str, url: str) -> None:
        response = call(client, method, url, headers)
        body = assert_problem(response, 401)
        assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
        assert "Authorization" in body["detail"]

    check_each([(h, m, u) for h in variants for m, u in every_api_call(api)], check)
    assert_client_untouched(app, api.client_id)


def test_unknown_revoked_or_expired_token_is_401(app: Flask, client: FlaskClient, api: Api) -> None:
    forged = "pph_" + "A" * 43  # the right shape, never issued
    tampered = api.both[:-1] + ("A" if api.both[-1] != "A" else "B")
    assert client.get("/api/v1/documents", headers=bearer(api.both)).status_code == 200
    with transaction(runtime(app).session_factory) as session:
        token = session.scalar(
            select(ApiToken).where(ApiToken.token_hash == token_digest(api.both))
        )
        assert token is not None
        revoke_api_token(session, token.id, now=utcnow(), actor="test")
        _row, expired = create_api_token(
            session,
            name="périmé",
            scopes=[Scope.READ, Scope.RESTITUTION],
            now=utcnow(),
            expires_at=utcnow() - timedelta(seconds=1),
        )
        revoked_id = token.id
    # Revoked outside the server (as by the CLI): the server's token cache follows within
    # TOKEN_CACHE_TTL (tested in test_token_cache); here, as if that delay had passed.
    app.extensions["paraphe_token_cache"].forget(revoked_id)

    def check(token: str, method: str, url: str) -> None:
        response = call(client, method, url, bearer(token))
        body = assert_problem(response, 401)
        assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
        assert "inconnu, expiré ou révoqué" in body["detail"]

    check_each(
        [(t, m, u) for t in (forged, tampered, api.both, expired) for m, u in every_api_call(api)],
        check,
    )
    assert_client_untouched(app, api.client_id)


def test_token_without_the_scope_is_403(app: Flask, client: FlaskClient, api: Api) -> None:
    body = assert_problem(
        client.post(
            f"/api/v1/clients/{api.client_id}/termination",
            headers=bearer(api.read),
            json={"terminated_on": "2026-12-31", "reason": "Fin"},
        ),
        403,
    )
    assert "restitution" in body["detail"]
    assert_client_untouched(app, api.client_id)

    restitution = client.get(
        f"/api/v1/clients/{api.client_id}/restitution", headers=bearer(api.read)
    )
    assert_problem(restitution, 403)
    assert b"PK\x03\x04" not in restitution.data  # no archive leaked with the refusal
    assert count(app, AuditEvent, AuditEvent.action.like("restitution%")) == 0

    # and the other way round: a restitution-only token cannot list or read documents
    assert_problem(client.get("/api/v1/documents", headers=bearer(api.restitution)), 403)
    content = client.get(
        f"/api/v1/documents/{api.document_id}/content", headers=bearer(api.restitution)
    )
    assert_problem(content, 403)
    assert b"contrat de test" not in content.data
    assert count(app, AuditEvent, AuditEvent.action == "document.read") == 0


# --- query parameters -----------------------------------------------------------------------


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


BAD_QUERIES = [
    ("kind=unknown", "kind"),
    ("kind=", "kind"),
    ("kind=CONTRACT", "kind"),
    ("limit=0", "limit"),
    ("limit=201", "limit"),
    ("limit=-1", "limit"),
    ("limit=abc", "limit"),
    ("limit=1.5", "limit"),
    ("limit=", "limit"),
    ("client_id=abc", "client_id"),
    ("client_id=-3", "client_id"),
    ("client_id=123456789012345", "client_id"),
    ("cursor=garbage", "cursor"),
    ("cursor=" + _cursor("id:abc"), "cursor"),
    ("cursor=" + _cursor("id:"), "cursor"),
    ("cursor=" + _cursor("page:3"), "cursor"),
    ("cursor=%FF%FE", "cursor"),
    ("unknown=1", "unknown"),
    ("LIMIT=10", "LIMIT"),
]


def test_bad_list_query_is_422_with_one_error_per_field(client: FlaskClient, api: Api) -> None:
    def check(query: str, field: str) -> None:
        response = client.get(f"/api/v1/documents?{query}", headers=bearer(api.read))
        body = assert_problem(response, 422)
        assert set(problem_fields(body)) == {field}, body
        assert problem_fields(body)[field]

    check_each(BAD_QUERIES, check)

    # several problems: all reported in one answer, the kind error lists accepted values
    body = assert_problem(
        client.get(
            "/api/v1/documents?kind=nope&limit=0&client_id=x&sort=nope", headers=bearer(api.read)
        ),
        422,
    )
    assert set(problem_fields(body)) == {"kind", "limit", "client_id", "sort"}
    assert "signed_contract" in problem_fields(body)["kind"]


def test_unicode_digit_parameters_are_422_not_500(client: FlaskClient, api: Api) -> None:
    def check(query: str, field: str) -> None:
        response = client.get(f"/api/v1/documents?{query}", headers=bearer(api.read))
        assert set(problem_fields(assert_problem(response, 422))) == {field}

    check_each([("limit=%C2%B2", "limit"), ("client_id=%C2%B2", "client_id")], check)


def test_out_of_range_ids_are_not_500(client: FlaskClient, api: Api) -> None:
    def check(url: str) -> None:
        response = client.get(url, headers=bearer(api.read))
        assert response.status_code in (200, 404, 422), (response.status_code, url)
        if response.status_code == 200:
            assert json_of(response)["items"] == []
        else:
            assert_problem(response, response.status_code)

    huge, big = "9" * 30, str(2**31)
    cases = [f"/api/v1/documents?cursor={_cursor('id:' + huge)}", f"/api/v1/documents/{'9' * 20}"]
    if ON_POSTGRES:  # 32-bit integer columns
        cases += [
            f"/api/v1/documents?cursor={_cursor('id:' + big)}",
            "/api/v1/documents?client_id=99999999999",
            f"/api/v1/documents/{big}",
        ]
    check_each(cases, check)


def test_valid_cursor_pages_through(app: Flask, client: FlaskClient, api: Api) -> None:
    # the counterpart of the refusals above: a cursor the API handed out is accepted
    deposit_document(app, api.client_id, "CTR-2026-0002")
    response = client.get("/api/v1/documents?limit=1&kind=contract", headers=bearer(api.read))
    assert response.status_code == 200
    first = json_of(response)
    assert len(first["items"]) == 1
    response = client.get(
        f"/api/v1/documents?limit=1&cursor={first['next_cursor']}", headers=bearer(api.read)
    )
    assert response.status_code == 200
    second = json_of(response)
    assert second["items"][0]["id"] > first["items"][0]["id"]
    assert second["next_cursor"] is None


# --- unknown resources ----------------------------------------------------------------------


def test_unknown_resources_are_404_problems(app: Flask, client: FlaskClient, api: Api) -> None:
    missing_doc, missing_client = api.document_id + 1000, api.client_id + 1000
    for url in (f"/api/v1/documents/{missing_doc}", f"/api/v1/documents/{missing_doc}/content"):
        body = assert_problem(client.get(url, headers=bearer(api.read)), 404)
        assert str(missing_doc) in body["detail"]
    body = assert_problem(
        client.post(
            f"/api/v1/clients/{missing_client}/termination",
            headers=bearer(api.both),
            json={"terminated_on": "2026-12-31"},
        ),
        404,
    )
    assert str(missing_client) in body["detail"]
    assert_problem(
        client.get(f"/api/v1/clients/{missing_client}/restitution", headers=bearer(api.both)), 404
    )
    assert_problem(
        client.get(f"/api/v1/clients/{missing_client}/cgv-acceptances", headers=bearer(api.both)),
        404,
    )
    assert_problem(client.get("/api/v1/nothing-here", headers=bearer(api.read)), 404)
    assert_problem(client.get("/api/v1/documents/abc", headers=bearer(api.read)), 404)
    assert_problem(
        client.delete(f"/api/v1/documents/{api.document_id}", headers=bearer(api.both)), 405
    )
    assert_client_untouched(app, api.client_id)


def test_405_names_the_allowed_methods(client: FlaskClient, api: Api) -> None:
    response = client.delete(f"/api/v1/documents/{api.document_id}", headers=bearer(api.both))
    assert response.status_code == 405
    assert "GET" in response.headers.get("Allow", "")


# --- termination body -----------------------------------------------------------------------

BAD_TERMINATIONS = [
    ('{"terminated_on": "2026-12-31",', "application/json", "body"),
    ("terminated_on=2026-12-31", "application/x-www-form-urlencoded", "body"),
    ('{"terminated_on": "2026-12-31"}', "text/plain", "body"),
    ("[]", "application/json", "body"),
    ('"2026-12-31"', "application/json", "body"),
    ("null", "application/json", "body"),
    ("", "application/json", "body"),
    ("{}", "application/json", "terminated_on"),
    ('{"reason": "Fin"}', "application/json", "terminated_on"),
    ('{"terminated_on": null}', "application/json", "terminated_on"),
    ('{"terminated_on": 20261231}', "application/json", "terminated_on"),
    ('{"terminated_on": "2026-02-30"}', "application/json", "terminated_on"),
    ('{"terminated_on": "31/12/2026"}', "application/json", "terminated_on"),
    ('{"terminated_on": "demain"}', "application/json", "terminated_on"),
    ('{"terminated_on": "2026-12-31", "reason": 12}', "application/json", "reason"),
    (
        '{"terminated_on": "2026-12-31", "reason": "' + "x" * 2001 + '"}',
        "application/json",
        "reason",
    ),
    ('{"terminated_on": "2026-12-31", "status": "active"}', "application/json", "status"),
    ('{"terminated_on": "2026-12-31", "client_id": 1}', "application/json", "client_id"),
]


def test_bad_termination_body_is_422_and_changes_nothing(
    app: Flask, client: FlaskClient, api: Api
) -> None:
    url = f"/api/v1/clients/{api.client_id}/termination"

    def check(raw: str, content_type: str, field: str) -> None:
        response = client.post(
            url, headers={**bearer(api.both), "Content-Type": content_type}, data=raw
        )
        body = assert_problem(response, 422)
        assert field in problem_fields(body), body
        assert_client_untouched(app, api.client_id)

    check_each(BAD_TERMINATIONS, check)
    # the client can still be terminated properly afterwards, once
    ok = client.post(
        url, headers=bearer(api.both), json={"terminated_on": "2026-12-31", "reason": "Première"}
    )
    assert ok.status_code == 201 and json_of(ok)["status"] == "terminated"
    assert_problem(
        client.post(
            url, headers=bearer(api.both), json={"terminated_on": "2027-01-31", "reason": "Seconde"}
        ),
        409,
    )
    with session_of(app) as session:
        terminated = session.get(Client, api.client_id)
        assert terminated is not None and terminated.terminated_on is not None
        assert terminated.terminated_on.isoformat() == "2026-12-31"
        assert terminated.termination_reason == "Première"


def test_termination_date_must_be_aaaa_mm_jj(app: Flask, client: FlaskClient, api: Api) -> None:
    def check(raw: str) -> None:
        response = client.post(
            f"/api/v1/clients/{api.client_id}/termination",
            headers=bearer(api.both),
            json={"terminated_on": raw},
        )
        assert_problem(response, 422)
        assert_client_untouched(app, api.client_id)

    check_each(["20261231", "2026-W53-4"], check)


def test_control_characters_in_termination_reason_are_422(
    app: Flask, client: FlaskClient, api: Api
) -> None:
    response = client.post(
        f"/api/v1/clients/{api.client_id}/termination",
        headers=bearer(api.both),
        json={"terminated_on": "2026-12-31", "reason": "Fin\u0000 de contrat"},
    )
    assert "reason" in problem_fields(assert_problem(response, 422))
    assert_client_untouched(app, api.client_id)
