"""A CRM reads a contract through the API: its versions and its signature requests
(`GET /contracts/{id}`), and each request whole (`GET /contracts/{id}/signature-requests`, the
link every contract version gives, which answered 405 before)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Scope
from app.config import Settings
from tests.factories import make_client, make_quote, make_token, publish_short_cgv


@pytest.fixture
def crm(app: Flask) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(app, Scope.WRITE, Scope.READ)}"}


def _read(client: FlaskClient, url: str, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def test_a_contract_reads_with_its_versions_and_its_requests(
    app: Flask, client: FlaskClient, crm: dict[str, str]
) -> None:
    publish_short_cgv(app)
    client_id = make_client(app)
    quote_id = make_quote(app, client_id)
    generated = client.post(f"/api/v1/quotes/{quote_id}/contract", headers=crm).get_json()
    contract_id = generated["contract_id"]
    url = f"/api/v1/contracts/{contract_id}"

    contract = _read(client, url, crm)
    assert contract["id"] == contract_id and contract["number"] == generated["version"]["number"]
    assert (contract["client_id"], contract["quote_id"]) == (client_id, quote_id)
    assert (contract["status"], contract["latest_version"]) == ("generated", 1)
    assert contract["versions"] == [generated["version"]]
    assert contract["signature_requests"] == []
    assert contract["links"] == {
        "self": url,
        "client": f"/api/v1/clients/{client_id}",
        "signature_requests": f"{url}/signature-requests",
    }
    # Every link answers a GET (a CRM follows them): none names a POST-only address.
    for link in (*contract["links"].values(), *generated["version"]["links"].values()):
        assert client.get(link, headers=crm).status_code == 200, link
    # The link every version gives now reads too (it answered 405 to a GET).
    requests_url = generated["version"]["links"]["signature_requests"]
    assert _read(client, requests_url, crm) == {"items": []}

    sent = client.post(requests_url, headers=crm)
    assert sent.status_code == 201, sent.get_json()
    first = sent.get_json()
    cancelled = client.post(
        f"/api/v1/signature-requests/{first['id']}/cancel",
        json={"reason": "Prix à revoir"},
        headers=crm,
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    asked = client.post(
        f"{url}/versions", json={"reason": "Remise de 5 % accordée", "based_on": 1}, headers=crm
    )
    assert asked.status_code == 202, asked.get_json()
    second = client.post(requests_url, json={"version": 2}, headers=crm).get_json()

    contract = _read(client, url, crm)
    assert (contract["status"], contract["latest_version"]) == ("sent", 2)
    assert [v["version"] for v in contract["versions"]] == [1, 2]
    assert contract["versions"][0]["status"] == "superseded"
    assert [(r["id"], r["version"], r["status"]) for r in contract["signature_requests"]] == [
        (second["id"], 2, "sent"),
        (first["id"], 1, "cancelled"),
    ]
    assert contract["signature_requests"][0]["links"] == {
        "self": f"/api/v1/signature-requests/{second['id']}",
        "signed_document": None,  # not signed yet
    }
    # Each request whole, as its own URL answers it, the latest first.
    listed = _read(client, requests_url, crm)["items"]
    assert listed == [
        _read(client, f"/api/v1/signature-requests/{second['id']}", crm),
        _read(client, f"/api/v1/signature-requests/{first['id']}", crm),
    ]
    assert listed[1]["closed_reason"] == "Prix à revoir"


def test_each_version_names_the_vendors_countersigner_and_capacity_or_null(
    settings: Settings, make_app: Callable[[Settings], Flask]
) -> None:
    vendor = replace(
        settings.vendor, representative="Camille Roux", representative_title="Présidente"
    )
    app = make_app(replace(settings, vendor=vendor))
    client, crm = (
        app.test_client(),
        {"Authorization": f"Bearer {make_token(app, Scope.WRITE, Scope.READ)}"},
    )
    publish_short_cgv(app)
    client_id = make_client(app)

    def version_1(body: dict[str, Any]) -> dict[str, Any]:
        quote_id = make_quote(app, client_id)
        asked = client.post(f"/api/v1/quotes/{quote_id}/contract", json=body, headers=crm)
        assert asked.status_code in (200, 201, 202), asked.get_json()
        contract = _read(client, f"/api/v1/contracts/{asked.get_json()['contract_id']}", crm)
        version: dict[str, Any] = contract["versions"][0]
        return version

    # the representative countersigns in the capacity printed for them
    named = version_1(
        {"countersigner": {"name": "Camille Roux", "email": "camille@editeur.example"}}
    )
    assert named["countersigner"] == {
        "name": "Camille Roux",
        "email": "camille@editeur.example",
        "title": "Présidente",
    }
    # anyone else: no borrowed capacity
    other = version_1({"countersigner": {"name": "Léa Petit", "email": "lea@editeur.example"}})
    assert other["countersigner"] == {
        "name": "Léa Petit",
        "email": "lea@editeur.example",
        "title": None,
    }
    # no signatory configured and none named: the version has no countersignature
    assert version_1({})["countersigner"] is None


def test_unknown_contract_missing_token_and_missing_scope_are_refused(
    app: Flask, client: FlaskClient
) -> None:
    reader = {"Authorization": f"Bearer {make_token(app, Scope.READ)}"}
    writer_only = {"Authorization": f"Bearer {make_token(app, Scope.WRITE)}"}
    for url in ("/api/v1/contracts/999", "/api/v1/contracts/999/signature-requests"):
        missing = client.get(url, headers=reader)
        assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
        assert missing.get_json()["detail"] == "Contrat n° 999 introuvable."
        assert client.get(url).status_code == 401
        assert client.get(url, headers=writer_only).status_code == 403
