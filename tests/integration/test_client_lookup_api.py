"""A CRM that does not know Paraphe's id finds a client by SIREN or VAT number
(`GET /api/v1/clients?siren=`), and a refused duplicate names the client already there
(`client_id`, `links.client`) without the CRM parsing the French `detail`."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Scope
from tests.factories import VALID_CLIENT, make_client, make_token

OTHER_SIREN = "732829320"  # a valid SIREN (Luhn) that no client of these tests has at first


def bearer(app: Flask, *scopes: Scope) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(app, *scopes)}"}


@pytest.fixture
def reader(app: Flask) -> dict[str, str]:
    return bearer(app, Scope.READ)


def test_a_client_is_found_by_its_siren_or_its_vat_number(
    app: Flask, client: FlaskClient, reader: dict[str, str]
) -> None:
    first = make_client(app)
    second = make_client(app, legal_name="Lefèvre Distribution", vat_number="")
    make_client(app, legal_name="Autre société", siren=OTHER_SIREN, vat_number="")

    response = client.get(f"/api/v1/clients?siren={VALID_CLIENT['siren']}", headers=reader)
    assert response.status_code == 200, response.get_data(as_text=True)
    found = response.get_json()
    # the same representation as GET /clients/{id}, the oldest first
    assert found == [
        client.get(f"/api/v1/clients/{client_id}", headers=reader).get_json()
        for client_id in (first, second)
    ]

    by_vat = client.get(
        "/api/v1/clients", query_string={"vat_number": VALID_CLIENT["vat_number"]}, headers=reader
    )
    assert by_vat.status_code == 200
    assert [c["id"] for c in by_vat.get_json()] == [first]


def test_no_client_with_this_siren_is_an_empty_list(
    app: Flask, client: FlaskClient, reader: dict[str, str]
) -> None:
    make_client(app)
    for query in ({"siren": OTHER_SIREN}, {"vat_number": "FR44" + OTHER_SIREN}):
        response = client.get("/api/v1/clients", query_string=query, headers=reader)
        assert response.status_code == 200, query
        assert response.get_json() == [], query


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            # a wrong key and an unknown parameter: both in one answer
            {"siren": "552100555", "legal_name": "Boulangerie"},
            {
                "siren": "SIREN invalide : 9 chiffres dont la clé de contrôle (Luhn) est juste.",
                "legal_name": "Paramètre inconnu (acceptés : siren, vat_number).",
            },
        ),
        # as stored only: a SIREN written with spaces is refused, not normalised
        ({"siren": "552 100 554"}, {"siren": "SIREN invalide"}),
        ({"vat_number": "FR00552100554"}, {"vat_number": "Numéro de TVA intracommunautaire"}),
        # no listing of every client: the lookup needs what to look up
        ({}, {"siren": "Indiquez le SIREN (siren) ou le numéro de TVA (vat_number)."}),
        (
            {"siren": "552100554", "vat_number": "FR96552100554"},
            {"vat_number": "Le SIREN ou le numéro de TVA, pas les deux."},
        ),
    ],
)
def test_a_malformed_lookup_is_refused_with_every_problem(
    app: Flask,
    client: FlaskClient,
    reader: dict[str, str],
    query: dict[str, str],
    expected: dict[str, str],
) -> None:
    make_client(app)
    response = client.get("/api/v1/clients", query_string=query, headers=reader)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    found = {e["field"]: e["message"] for e in response.get_json()["errors"]}
    assert found.keys() == expected.keys()
    for field, start in expected.items():
        assert found[field].startswith(start), found


def test_the_lookup_needs_the_read_scope(app: Flask, client: FlaskClient) -> None:
    make_client(app)
    url = f"/api/v1/clients?siren={VALID_CLIENT['siren']}"
    assert client.get(url).status_code == 401
    refused = client.get(url, headers=bearer(app, Scope.WRITE, Scope.ADMIN))
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"
    assert "read" in refused.get_json()["detail"]


def test_a_duplicate_siren_names_the_client_already_there(app: Flask, client: FlaskClient) -> None:
    first = make_client(app)
    second = make_client(app, legal_name="Lefèvre Distribution", vat_number="")
    writer = bearer(app, Scope.WRITE)
    response = client.post("/api/v1/clients", json=VALID_CLIENT, headers=writer)
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["client_id"] == first
    assert body["client_ids"] == [first, second]
    assert body["links"] == {"client": f"/api/v1/clients/{first}"}
    assert body["detail"].startswith("Un client a déjà ce SIREN")  # the French stays

    # a correction to another client's SIREN: the same members
    other = make_client(app, legal_name="Autre société", siren=OTHER_SIREN, vat_number="")
    moved = client.patch(
        f"/api/v1/clients/{other}", json={"siren": VALID_CLIENT["siren"]}, headers=writer
    )
    assert moved.status_code == 409
    assert moved.get_json()["client_id"] == first
