"""The API's refusals in English for a client whose Accept-Language ranks English above French:
the title, the `detail` and every field message, with the same field paths as in French.
French stays the default (no header, French first, other languages only)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Scope
from app.clients.models import Client
from app.extensions import limiter
from tests.factories import VALID_CLIENT, count, make_client, make_token

# Five members wrong in five ways, and one member that does not exist.
BAD_CLIENT: dict[str, Any] = {
    **VALID_CLIENT,
    "legal_name": "x" * 201,
    "siren": "552100555",
    "postal_code": 69002,
    "city": "  ",
    "signer_email": "zoë@example.fr",
    "colour": "blue",
}
del BAD_CLIENT["address"]

FRENCH = {
    "address": "Ce champ est obligatoire.",
    "city": "Ce champ est obligatoire.",
    "colour": "Champ inconnu.",
    "legal_name": "200 caractères au maximum.",
    "postal_code": "Chaîne de caractères attendue.",
    "siren": "SIREN invalide : 9 chiffres dont la clé de contrôle (Luhn) est juste.",
    "signer_email": (
        "Adresse e-mail invalide (ex. prenom.nom@entreprise.fr). "
        "Les caractères accentués ne sont pas acceptés avant le @."
    ),
}
ENGLISH = {
    "address": "This field is required.",
    "city": "This field is required.",
    "colour": "Unknown field.",
    "legal_name": "At most 200 characters.",
    "postal_code": "String expected.",
    "siren": "Invalid SIREN: 9 digits with a correct check digit (Luhn).",
    "signer_email": (
        "Invalid email address (e.g. firstname.lastname@company.fr). "
        "Accented characters are not accepted before the @."
    ),
}


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert isinstance(body, dict) and body["status"] == status
    return body


def _fields(body: dict[str, Any]) -> dict[str, str]:
    return {e["field"]: e["message"] for e in body["errors"]}


def _post_bad_client(client: FlaskClient, token: str, language: str | None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    if language is not None:
        headers["Accept-Language"] = language
    return _problem(client.post("/api/v1/clients", json=BAD_CLIENT, headers=headers), 422)


def test_a_bad_client_is_refused_in_english_member_by_member(
    app: Flask, client: FlaskClient
) -> None:
    token = make_token(app, Scope.WRITE)
    english = _post_bad_client(client, token, "en")
    assert english["title"] == "Invalid data"
    assert _fields(english) == ENGLISH
    # the detail lists the same problems, in English, under the same paths
    for field, message in ENGLISH.items():
        assert f"{field}: {message}" in english["detail"]
    assert "caractères" not in english["detail"] and "obligatoire" not in english["detail"]
    assert _post_bad_client(client, token, "en-GB,en;q=0.9") == english
    assert count(app, Client) == 0


def test_french_stays_the_default(app: Flask, client: FlaskClient) -> None:
    token = make_token(app, Scope.WRITE)
    for language in (None, "fr-FR, en;q=0.5", "de", "*"):
        french = _post_bad_client(client, token, language)
        assert french["title"] == "Données invalides", language
        assert _fields(french) == FRENCH, language
        assert french["detail"] == " ".join(f"{k} : {v}" for k, v in french_order(french))
        assert ".;" not in french["detail"]


def french_order(body: dict[str, Any]) -> list[tuple[str, str]]:
    """The body's (field, message) pairs in the order it lists them."""
    return [(e["field"], e["message"]) for e in body["errors"]]


def test_values_are_put_into_the_english_template(app: Flask, client: FlaskClient) -> None:
    token = make_token(app, Scope.WRITE)
    body = {**VALID_CLIENT, "vat_number": "DE12345", "country": "DE", "postal_code": "1234"}
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    english = _fields(_problem(client.post("/api/v1/clients", json=body, headers=headers), 422))
    french = _fields(
        _problem(
            client.post("/api/v1/clients", json=body, headers={"Authorization": f"Bearer {token}"}),
            422,
        )
    )
    assert set(english) == set(french) == {"vat_number", "postal_code"}
    assert english["vat_number"] == "Malformed DE VAT number (length or characters)."
    assert french["vat_number"] == "Numéro de TVA DE mal formé (longueur ou caractères)."
    assert english["postal_code"].startswith("Invalid postal code for this country (e.g. ")
    # the examples are the same values in both languages
    assert english["postal_code"].split("(e.g. ")[1] == french["postal_code"].split("(ex. ")[1]


def test_not_found_in_english(app: Flask, client: FlaskClient) -> None:
    headers = {"Authorization": f"Bearer {make_token(app, Scope.READ)}", "Accept-Language": "en"}
    missing = make_client(app) + 1000
    body = _problem(client.get(f"/api/v1/clients/{missing}", headers=headers), 404)
    assert body["title"] == "Not found"
    assert body["detail"] == f"Client no. {missing} not found."
    # no route at all: Werkzeug's 404, with our own English sentence
    body = _problem(client.get("/api/v1/nothing-here", headers=headers), 404)
    assert body["title"] == "Not Found"
    assert body["detail"] == "The requested address does not exist."


def test_authentication_and_scope_in_english(app: Flask, client: FlaskClient) -> None:
    body = _problem(client.get("/api/v1/clients/1", headers={"Accept-Language": "en"}), 401)
    assert body["title"] == "Unauthorized"
    assert body["detail"] == "API token required (header Authorization: Bearer …)."
    unknown = {"Authorization": "Bearer not-a-token", "Accept-Language": "en"}
    body = _problem(client.get("/api/v1/clients/1", headers=unknown), 401)
    assert body["detail"] == "Unknown, expired or revoked API token."
    reader = {"Authorization": f"Bearer {make_token(app, Scope.READ)}"}
    english = _problem(
        client.post(
            "/api/v1/clients", json=VALID_CLIENT, headers={**reader, "Accept-Language": "en"}
        ),
        403,
    )
    assert english["title"] == "Forbidden"
    assert english["detail"] == "This token does not have the “write” scope."
    french = _problem(client.post("/api/v1/clients", json=VALID_CLIENT, headers=reader), 403)
    assert french["detail"] == "Ce jeton n'a pas la portée « write »."
    assert count(app, Client) == 0


def test_method_not_allowed_in_english(app: Flask, client: FlaskClient) -> None:
    headers = {"Authorization": f"Bearer {make_token(app, Scope.WRITE)}", "Accept-Language": "en"}
    response = client.put("/api/v1/clients", json=VALID_CLIENT, headers=headers)
    body = _problem(response, 405)
    assert body["title"] == "Method Not Allowed"
    assert body["detail"] == "This method is not allowed at this address."
    assert "POST" in response.headers["Allow"]


def test_idempotency_refusals_in_english(app: Flask, client: FlaskClient) -> None:
    token = make_token(app, Scope.WRITE)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "crm-1"}
    assert client.post("/api/v1/clients", json=VALID_CLIENT, headers=headers).status_code == 201
    other = {**VALID_CLIENT, "city": "Villeurbanne", "postal_code": "69100"}
    english = _problem(
        client.post("/api/v1/clients", json=other, headers={**headers, "Accept-Language": "en"}),
        409,
    )
    assert english["title"] == "Idempotency key already used"
    assert english["detail"] == (
        "This idempotency key was already used for another request in the last 24 hours: "
        "choose a new key for a new request."
    )
    french = _problem(client.post("/api/v1/clients", json=other, headers=headers), 409)
    assert french["detail"].startswith("Cette clé d'idempotence a déjà servi")
    # a key that is not one: a 422 whose one field is the header, in English
    bad_key = {**headers, "Idempotency-Key": "é" * 3, "Accept-Language": "en"}
    body = _problem(client.post("/api/v1/clients", json=other, headers=bad_key), 400)
    assert _fields(body) == {
        "Idempotency-Key": "From 1 to 255 printable ASCII characters (a UUID will do)."
    }
    assert count(app, Client) == 1


def test_too_many_requests_in_english(app: Flask) -> None:
    # No route of the API is rate-limited today; one under /api/v1, limited by the
    # application's own limiter, answers the 429 every limited route would.
    @limiter.limit("1 per minute")
    def ping() -> dict[str, str]:
        return {"pong": "ok"}

    app.add_url_rule("/api/v1/test-ping", "test_ping", ping)
    client = app.test_client()
    assert client.get("/api/v1/test-ping").status_code == 200
    english = _problem(client.get("/api/v1/test-ping", headers={"Accept-Language": "en"}), 429)
    assert english["title"] == "Too Many Requests"
    assert english["detail"] == "Too many attempts: wait a moment before trying again."
    french = _problem(client.get("/api/v1/test-ping"), 429)
    assert french["title"] == "Trop de tentatives"
    assert french["detail"] == "Trop de tentatives : patientez un moment avant de réessayer."
