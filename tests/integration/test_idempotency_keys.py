"""The `Idempotency-Key` of the write API's POSTs: the same key and body within 24 h get the
first answer back (`Idempotent-Replayed: true`), another body a 409, and twenty identical
requests at once make one resource (the claim is a unique row, committed first)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.auth.models import Scope
from app.clients.models import Client
from app.db import transaction, utcnow
from app.idempotency import tasks
from app.idempotency.models import IdempotencyKey
from app.quotes.models import Quote
from tests.factories import (
    VALID_CLIENT,
    count,
    make_client,
    make_token,
    runtime,
    session_of,
)
from tests.together import at_once

QUOTE_LINE = {"designation": "Audit", "quantity": "1", "unit_price": "900", "vat_rate": "20"}


def headers(token: str, key: str | None = None) -> dict[str, str]:
    found = {"Authorization": f"Bearer {token}"}
    if key is not None:
        found["Idempotency-Key"] = key
    return found


def test_same_key_same_body_is_answered_once(app: Flask, client: FlaskClient) -> None:
    token = make_token(app, Scope.WRITE)
    first = client.post("/api/v1/clients", json=VALID_CLIENT, headers=headers(token, "k-1"))
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = client.post("/api/v1/clients", json=VALID_CLIENT, headers=headers(token, "k-1"))
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert count(app, Client) == 1

    other = client.post(
        "/api/v1/clients",
        json={**VALID_CLIENT, "city": "Paris", "postal_code": "75002"},
        headers=headers(token, "k-1"),
    )
    assert other.status_code == 409
    assert other.mimetype == "application/problem+json"
    assert other.get_json()["title"] == "Clé d'idempotence déjà utilisée"
    english = client.post(
        "/api/v1/clients",
        json={**VALID_CLIENT, "city": "Paris"},
        headers={**headers(token, "k-1"), "Accept-Language": "en"},
    )
    assert english.get_json()["title"] == "Idempotency key already used"
    # the same key on another path is another request too
    assert client.post("/api/v1/quotes", json={}, headers=headers(token, "k-1")).status_code == 409
    # keys belong to a token: another token's "k-1" is its own
    other_token = make_token(app, Scope.WRITE)
    mine = client.post(
        "/api/v1/clients",
        json={**VALID_CLIENT, "confirm_duplicate": True},
        headers=headers(other_token, "k-1"),
    )
    assert mine.status_code == 201 and "Idempotent-Replayed" not in mine.headers
    assert count(app, Client) == 2


def test_a_refused_request_frees_its_key(app: Flask, client: FlaskClient) -> None:
    token = make_token(app, Scope.WRITE)
    refused = client.post(
        "/api/v1/clients", json={**VALID_CLIENT, "siren": "1"}, headers=headers(token, "k-2")
    )
    assert refused.status_code == 422
    assert count(app, IdempotencyKey) == 0
    fixed = client.post("/api/v1/clients", json=VALID_CLIENT, headers=headers(token, "k-2"))
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers


def test_malformed_keys_are_refused(app: Flask, client: FlaskClient) -> None:
    token = make_token(app, Scope.WRITE)
    for key in ("", "é", "a" * 256, "with space"):
        response = client.post("/api/v1/clients", json=VALID_CLIENT, headers=headers(token, key))
        assert response.status_code == 400, key
        assert response.get_json()["errors"][0]["field"] == "Idempotency-Key"
    assert count(app, Client) == 0


def test_a_key_lasts_24_hours_then_is_purged(app: Flask, client: FlaskClient) -> None:
    token = make_token(app, Scope.WRITE)
    body = {"client_id": make_client(app), "lines": [QUOTE_LINE]}
    assert (
        client.post("/api/v1/quotes", json=body, headers=headers(token, "k-3")).status_code == 201
    )
    with transaction(runtime(app).session_factory) as session:
        session.execute(
            update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=24, minutes=1))
        )
    # past its day, the key is a new request: a second quote
    again = client.post("/api/v1/quotes", json=body, headers=headers(token, "k-3"))
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert count(app, Quote) == 2
    with transaction(runtime(app).session_factory) as session:
        session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(days=2)))
    tasks.purge.run()  # the periodic job itself
    assert count(app, IdempotencyKey) == 0


def test_a_claim_left_by_a_dead_request_is_taken_over(app: Flask, client: FlaskClient) -> None:
    token = make_token(app, Scope.WRITE)
    first = client.post("/api/v1/clients", json=VALID_CLIENT, headers=headers(token, "k-4"))
    assert first.status_code == 201
    # as if the process answering it had been killed before recording the answer, long ago
    with transaction(runtime(app).session_factory) as session:
        session.execute(
            update(IdempotencyKey).values(
                status=None, response_body=None, created_at=utcnow() - timedelta(minutes=11)
            )
        )
    body = {**VALID_CLIENT, "confirm_duplicate": True}
    again = client.post("/api/v1/clients", json=body, headers=headers(token, "k-4"))
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    with session_of(app) as session:
        assert session.scalars(select(IdempotencyKey.status)).all() == [201]


@pytest.mark.committed_db  # threads on their own connections
def test_twenty_identical_posts_at_once_make_one_quote(app: Flask) -> None:
    token = make_token(app, Scope.WRITE)
    body = {"client_id": make_client(app), "lines": [QUOTE_LINE]}
    answers = at_once(
        lambda: app.test_client().post(
            "/api/v1/quotes", json=body, headers=headers(token, "same-key")
        )
    )

    assert len(answers) == 20
    assert {a.status_code for a in answers} == {201}
    assert len({repr(a.get_json()) for a in answers}) == 1  # the same answer, twenty times
    assert len({a.headers.get("Location") for a in answers}) == 1
    replayed = [a.headers.get("Idempotent-Replayed", "no") for a in answers]
    assert sorted(replayed) == ["no"] + ["true"] * 19  # one did the work, nineteen waited
    assert count(app, Quote) == 1
    with session_of(app) as session:
        assert session.scalars(select(IdempotencyKey.status)).all() == [201]
