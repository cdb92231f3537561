"""API error titles and details follow Accept-Language (French by default, English when
preferred). Web pages stay French whatever the browser asks."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Scope
from tests.factories.people import make_token

DETAIL = "Document n° 999999 introuvable."


def _missing(client: FlaskClient, token: str, language: str | None) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {token}"}
    if language is not None:
        headers["Accept-Language"] = language
    response = client.get("/api/v1/documents/999999", headers=headers)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def test_api_error_title_is_english_when_the_client_prefers_it(
    app: Flask, client: FlaskClient
) -> None:
    token = make_token(app, Scope.READ)
    french = _missing(client, token, None)
    assert french["title"] == "Introuvable" and french["status"] == 404
    assert _missing(client, token, "fr-FR,en;q=0.8")["title"] == "Introuvable"
    assert _missing(client, token, "de")["title"] == "Introuvable"
    english = _missing(client, token, "en-GB,en;q=0.9,fr;q=0.5")
    assert english["title"] == "Not found" and english["status"] == 404
    assert french["detail"] == DETAIL
    assert english["detail"] == "Document no. 999999 not found."  # the same sentence, in English


def test_protocol_errors_follow_accept_language_too(client: FlaskClient) -> None:
    french = client.get("/api/v1/documents")
    english = client.get("/api/v1/documents", headers={"Accept-Language": "en"})
    assert french.status_code == english.status_code == 401
    assert french.get_json()["title"] == "Authentification requise"
    assert english.get_json()["title"] == "Unauthorized"


def test_web_error_pages_stay_french(client: FlaskClient) -> None:
    page = client.get("/restitution/demande/inconnu", headers={"Accept-Language": "en"})
    assert page.status_code == 410
    text = page.get_data(as_text=True)
    assert "Ce lien n'est plus utilisable" in text  # the restitution's own page, from the table
