"""The write API (/api/v1, scope write): clients, quotes, contracts and signature requests
created through the services the web pages use; every refusal a problem+json listing every
field at once (French, English on request), nothing written."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import Scope
from app.clients.models import Client
from app.contracts.models import Contract
from app.quotes.models import Quote
from app.signatures.models import SignatureRequest
from tests.factories import (
    VALID_CLIENT,
    count,
    make_client,
    make_product,
    make_quote,
    make_token,
    publish_short_cgv,
    session_of,
)
from tests.integration.helpers import response_fields


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


@pytest.fixture
def writer(app: Flask) -> dict[str, str]:
    return bearer(make_token(app, Scope.WRITE, Scope.READ))


def test_every_write_needs_the_write_scope(app: Flask, client: FlaskClient) -> None:
    reader = bearer(make_token(app, Scope.READ, Scope.ADMIN, Scope.RESTITUTION))
    for path in (
        "/api/v1/clients",
        "/api/v1/quotes",
        "/api/v1/quotes/1/contract",
        "/api/v1/contracts/1/signature-requests",
        "/api/v1/signature-requests/1/cancel",
        "/api/v1/signature-requests/1/reminders",
        "/api/v1/contracts/1/versions",
    ):
        response = client.post(path, json={}, headers=reader)
        assert response.status_code == 403, path
        assert "write" in response.get_json()["detail"]
    assert client.patch("/api/v1/clients/1", json={}, headers=reader).status_code == 403
    assert count(app, Client) == 0
    # and the rule is on the routes themselves (the access-matrix reads it)
    write_routes = [
        view
        for rule, view in ((r, app.view_functions[r.endpoint]) for r in app.url_map.iter_rules())
        if rule.rule.startswith("/api/v1/")
        and rule.methods is not None
        and rule.methods & {"POST", "PATCH"}
        and not rule.rule.startswith(("/api/v1/webhook", "/api/v1/documents"))
        and "restitution" not in rule.rule
        and "termination" not in rule.rule
    ]
    assert len(write_routes) == 8
    assert all(v.__dict__["required_scope"] is Scope.WRITE for v in write_routes)


def test_a_client_is_created_then_corrected(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    created = client.post("/api/v1/clients", json=VALID_CLIENT, headers=writer)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert created.headers["Location"] == f"/api/v1/clients/{body['id']}"
    assert body["siren"] == "552100554" and body["status"] == "active"
    assert client.get(created.headers["Location"], headers=writer).get_json() == body

    patched = client.patch(
        f"/api/v1/clients/{body['id']}",
        json={"city": "Villeurbanne", "postal_code": "69100"},
        headers=writer,
    )
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["city"] == "Villeurbanne"
    assert patched.get_json()["legal_name"] == VALID_CLIENT["legal_name"]
    with session_of(app) as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "client.updated")
        ).one()
        assert json.loads(event.details) == {"fields": ["city", "postal_code"]}
        assert event.actor.startswith("token:")


def test_every_problem_of_a_client_in_one_answer(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    body = {
        **VALID_CLIENT,
        "siren": "552100555",  # wrong Luhn key
        "legal_name": "ACME\u0007",  # a control character
        "city": 75,  # not a string
        "colour": "blue",  # unknown
        "vat_number": "FR00",  # malformed, whatever the SIREN: told in the same answer
    }
    response = client.post("/api/v1/clients", json=body, headers=writer)
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["title"] == "Données invalides"
    assert set(response_fields(response)) == {"siren", "legal_name", "city", "colour", "vat_number"}
    assert "Luhn" in response_fields(response)["siren"]
    english = client.post("/api/v1/clients", json=body, headers={**writer, "Accept-Language": "en"})
    assert english.get_json()["title"] == "Invalid data"
    # no body, a body that is not JSON, a JSON array: refused, never a 500
    for raw in (b"", b"{not json", b"[1, 2]", b"null"):
        refused = client.post(
            "/api/v1/clients", data=raw, content_type="application/json", headers=writer
        )
        assert refused.status_code == 422, raw
        assert response_fields(refused) == {"body": "Objet JSON attendu."}
    assert count(app, Client) == 0
    client_id = make_client(app)
    patch = client.patch(
        f"/api/v1/clients/{client_id}", json={"signer_email": "pas une adresse"}, headers=writer
    )
    assert patch.status_code == 422 and set(response_fields(patch)) == {"signer_email"}
    assert client.patch("/api/v1/clients/999", json={}, headers=writer).status_code == 404


def test_a_quote_from_a_catalogue_item_and_a_free_line(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    client_id = make_client(app)
    make_product(app, code="PREMIUM", price="100.00", vat="20")
    body = {
        "client_id": client_id,
        "lines": [
            {"product": "PREMIUM", "quantity": "12"},
            {
                "designation": "Formation sur site",
                "quantity": "2",
                "unit": "jour",
                "unit_price": "900.00",
                "vat_rate": "20",
                "discount": {"kind": "percent", "value": "10"},
            },
        ],
        "particular_terms": "Mise en service sous 15 jours.\nRéversibilité incluse.",
        "terms": {"plan": "monthly"},
    }
    response = client.post("/api/v1/quotes", json=body, headers=writer)
    assert response.status_code == 201, response.get_json()
    quote = response.get_json()
    assert response.headers["Location"] == f"/api/v1/quotes/{quote['id']}"
    assert [line["designation"] for line in quote["lines"]] == [
        "Abonnement Premium",
        "Formation sur site",
    ]
    assert quote["lines"][0]["unit_price"] == "100.00"
    assert quote["total_excl_vat"] == "2820.00"  # 1 200 + 1 800 − 10 %
    assert quote["commercial_terms"]["billing_period"] == "monthly"


def test_every_problem_of_a_quote_by_its_path(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    client_id = make_client(app)
    body = {
        "client_id": client_id,
        "lines": [
            {"product": "NOPE", "quantity": "1"},
            {"designation": "Audit", "quantity": "1", "unit_price": "100", "vat_rate": "20"},
            {"designation": "Audit", "quantity": 3, "unit_price": "100", "vat_rate": "20"},
            {"designation": "", "quantity": "1"},
        ],
        "terms": {"payment_terms_days": 90},
    }

    def refused_paths(sent: dict[str, Any]) -> set[str]:
        """The paths of the problems the API answers ``sent`` with."""
        response = client.post("/api/v1/quotes", json=sent, headers=writer)
        assert response.status_code == 422
        return set(response_fields(response))

    assert refused_paths(body) == {
        "lines[0].product",
        "lines[2].quantity",
        "lines[3].designation",
        "lines[3].unit_price",
        "lines[3].vat_rate",
    }
    # the domain's rules speak of the same paths, once the body reads well
    lines = [
        {"designation": "Audit", "quantity": "1", "unit_price": "100", "vat_rate": "20"},
        {"designation": "Audit", "quantity": "0", "unit_price": "100.001", "vat_rate": "20"},
    ]
    body = {"client_id": client_id, "lines": lines, "terms": {"payment_terms_days": 90}}
    assert refused_paths(body) == {
        "lines[1].quantity",
        "lines[1].unit_price",
        "terms.payment_terms_days",
    }
    assert count(app, Quote) == 0
    body["lines"] = lines[:1]
    body.pop("terms")
    body["client_id"] = 999
    assert client.post("/api/v1/quotes", json=body, headers=writer).status_code == 404


def test_contract_then_signature_request_then_cancel(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    publish_short_cgv(app)
    quote_id = make_quote(app, make_client(app), particular_terms="Hébergement en France.")
    generated = client.post(
        f"/api/v1/quotes/{quote_id}/contract",
        json={"free_text": "Le client dispose d'un interlocuteur dédié."},
        headers=writer,
    )
    # Rendered by the job (inline here, within the request): still 202, the generation done.
    assert generated.status_code == 202, generated.get_json()
    asked = generated.get_json()
    assert generated.headers["Location"] == asked["links"]["self"]
    assert asked["links"]["self"] == f"/api/v1/contract-generations/{asked['id']}"
    assert asked["status"] == "done" and asked["error"] is None
    assert client.get(asked["links"]["self"], headers=writer).get_json() == asked
    version = asked["version"]
    assert asked["contract_id"] == version["contract_id"]
    assert version["version"] == 1 and version["status"] == "generated"
    assert version["number"].startswith("CTR-")
    pdf = client.get(version["links"]["content"], headers=writer)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    again = client.post(f"/api/v1/quotes/{quote_id}/contract", headers=writer)
    assert again.status_code == 409  # one contract per quote
    assert count(app, Contract) == 1

    sent = client.post(
        version["links"]["signature_requests"],
        json={"order": "sequential", "expires_in_days": 7},
        headers=writer,
    )
    assert sent.status_code == 201, sent.get_json()
    request = sent.get_json()
    assert sent.headers["Location"] == request["links"]["self"]
    assert request["status"] == "sent"
    created = datetime.fromisoformat(request["created_at"])
    assert datetime.fromisoformat(request["expires_at"]) - created == timedelta(days=7)
    assert [(s["party"], s["status"]) for s in request["signers"]] == [("client", "notified")]
    assert request["links"]["signed_document"] is None
    assert client.get(request["links"]["self"], headers=writer).get_json() == request
    twice = client.post(version["links"]["signature_requests"], headers=writer)
    assert twice.status_code == 409  # the version has its request

    no_reason = client.post(
        f"/api/v1/signature-requests/{request['id']}/cancel", json={}, headers=writer
    )
    assert no_reason.status_code == 422 and set(response_fields(no_reason)) == {"reason"}
    cancelled = client.post(
        f"/api/v1/signature-requests/{request['id']}/cancel",
        json={"reason": "Le client a changé d'avis."},
        headers=writer,
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["status"] == "cancelled"
    assert cancelled.get_json()["closed_reason"] == "Le client a changé d'avis."
    with session_of(app) as session:
        assert session.scalars(select(SignatureRequest.status)).one().value == "cancelled"
