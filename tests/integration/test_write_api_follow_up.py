"""After the send, through the write API: a reminder now to the signers awaited, and version
n+1 of a contract (the web's "nouvelle version", same job); every refusal a problem+json."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.contracts.models import ContractVersion
from app.db import transaction
from app.signatures.models import ReplacedSigningLink, Signer
from tests.factories import count, crm_writer, quote_ready_for_contract, runtime
from tests.integration.helpers import body_text, outbox_messages, response_fields
from tests.together import PARALLEL, at_once

SIGNER = "zoe@example.fr"


@pytest.fixture
def writer(app: Flask) -> dict[str, str]:
    return crm_writer(app)


def _contract(app: Flask, client: FlaskClient, writer: dict[str, str]) -> dict[str, Any]:
    """Version 1 of a contract generated through the API (rendered inline by the job)."""
    quote_id = quote_ready_for_contract(app)
    generated = client.post(f"/api/v1/quotes/{quote_id}/contract", headers=writer)
    assert generated.status_code == 202, generated.get_json()
    version: dict[str, Any] = generated.get_json()["version"]
    return version


def _reminders(app: Flask) -> list[str]:
    return [
        body_text(m)
        for m in outbox_messages(runtime(app).settings.outbox_dir)
        if m["To"] == SIGNER and "Ceci est un rappel" in body_text(m)
    ]


def _mailed_hours_ago(app: Flask, hours: int) -> None:
    """The invitation (and any reminder) sent `hours` ago, counted from the app's `now`."""
    with transaction(runtime(app).session_factory) as session:
        for signer in session.scalars(select(Signer)):
            if signer.notified_at is not None:
                signer.notified_at -= timedelta(hours=hours)
        for replaced in session.scalars(select(ReplacedSigningLink)):
            replaced.replaced_at -= timedelta(hours=hours)


def test_a_reminder_now_once_a_day_at_most_and_once_per_key(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    version = _contract(app, client, writer)
    sent = client.post(version["links"]["signature_requests"], headers=writer)
    assert sent.status_code == 201, sent.get_json()
    remind = f"{sent.get_json()['links']['self']}/reminders"

    too_soon = client.post(remind, headers=writer)  # invited just now
    assert too_soon.status_code == 409
    assert too_soon.mimetype == "application/problem+json"
    assert "moins de 24 heures" in too_soon.get_json()["detail"]
    english = client.post(remind, headers={**writer, "Accept-Language": "en"})
    assert english.status_code == 409 and english.get_json()["title"] == "Conflict"
    assert _reminders(app) == []

    _mailed_hours_ago(app, 25)
    keyed = {**writer, "Idempotency-Key": "relance-1"}
    reminded = client.post(remind, headers=keyed)
    assert reminded.status_code == 200, reminded.get_json()
    [signer] = reminded.get_json()["signers"]
    assert (signer["email"], signer["reminders_sent"]) == (SIGNER, 1)
    assert len(_reminders(app)) == 1
    replayed = client.post(remind, headers=keyed)  # a CRM retrying: the same answer, no mail
    assert (replayed.status_code, replayed.get_json()) == (200, reminded.get_json())
    assert client.post(remind, headers=writer).status_code == 409  # reminded just now
    assert len(_reminders(app)) == 1

    _mailed_hours_ago(app, 25)
    assert client.post(remind, json={}, headers=writer).status_code == 200
    state = client.get(sent.get_json()["links"]["self"], headers=writer).get_json()
    assert state["signers"][0]["reminders_sent"] == 2
    assert len(_reminders(app)) == 2

    typo = client.post(remind, json={"when": "now"}, headers=writer)
    assert typo.status_code == 422 and set(response_fields(typo)) == {"when"}
    cancelled = client.post(
        f"{sent.get_json()['links']['self']}/cancel", json={"reason": "Abandon."}, headers=writer
    )
    assert cancelled.status_code == 200
    _mailed_hours_ago(app, 25)
    closed = client.post(remind, headers=writer)
    assert closed.status_code == 409
    assert closed.get_json()["detail"] == (
        "Seule une demande en cours peut être relancée (celle-ci est « annulée »)."
    )
    assert len(_reminders(app)) == 2
    assert client.post("/api/v1/signature-requests/999/reminders", headers=writer).status_code == (
        404
    )


@pytest.mark.committed_db  # each request's thread commits in its own connection
def test_twenty_reminders_at_once_remind_once(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    """A CRM firing the call many times (no idempotency key): the request's and the signers'
    row locks let one through; the others find the signer just reminded (409)."""
    version = _contract(app, client, writer)
    sent = client.post(version["links"]["signature_requests"], headers=writer)
    assert sent.status_code == 201, sent.get_json()
    remind = f"{sent.get_json()['links']['self']}/reminders"
    _mailed_hours_ago(app, 25)
    statuses = at_once(lambda: app.test_client().post(remind, headers=writer).status_code)
    assert sorted(statuses) == [200] + [409] * (PARALLEL - 1)
    assert len(_reminders(app)) == 1
    state = client.get(sent.get_json()["links"]["self"], headers=writer).get_json()
    assert state["signers"][0]["reminders_sent"] == 1


def test_version_n_plus_1_through_the_api(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    version = _contract(app, client, writer)
    versions = f"/api/v1/contracts/{version['contract_id']}/versions"

    no_reason = client.post(versions, json={"free_text": 7}, headers=writer)
    assert no_reason.status_code == 422
    assert set(response_fields(no_reason)) == {"reason", "free_text"}
    unknown_quote = client.post(
        versions, json={"reason": "Révision", "quote_id": 999}, headers=writer
    )
    assert unknown_quote.status_code == 422 and set(response_fields(unknown_quote)) == {"quote_id"}
    assert count(app, ContractVersion) == 1

    keyed = {**writer, "Idempotency-Key": "v2"}
    body = {"reason": "Ajout d'un site.", "free_text": "Site de Lyon inclus.", "based_on": 1}
    asked = client.post(versions, json=body, headers=keyed)
    assert asked.status_code == 202, asked.get_json()
    generation = asked.get_json()
    assert asked.headers["Location"] == generation["links"]["self"]
    assert generation["status"] == "done" and generation["contract_id"] == version["contract_id"]
    assert generation["version"]["version"] == 2
    assert generation["message"].endswith("version 2 générée.")
    assert client.post(versions, json=body, headers=keyed).get_json() == generation  # replayed
    assert count(app, ContractVersion) == 2

    stale = client.post(versions, json=body, headers=writer)  # based on 1, 2 exists: made since
    assert stale.status_code == 409
    assert "La version 2" in stale.get_json()["detail"]

    signing = client.post(version["links"]["signature_requests"], json={}, headers=writer)
    assert signing.status_code == 201 and signing.get_json()["version"] == 2
    in_signature = client.post(versions, json={"reason": "Encore."}, headers=writer)
    assert in_signature.status_code == 409
    assert "en cours de signature" in in_signature.get_json()["detail"]
    assert count(app, ContractVersion) == 2
    assert client.post("/api/v1/contracts/999/versions", json=body, headers=writer).status_code == (
        404
    )


def test_a_required_member_left_out_is_said_missing_not_of_the_wrong_type(
    client: FlaskClient, writer: dict[str, str]
) -> None:
    answer = client.post(
        "/api/v1/clients", json={"legal_name": "Atelier", "siren": 5}, headers=writer
    )
    assert answer.status_code == 422
    errors = response_fields(answer)
    for name in ("address", "postal_code", "city", "signer_name", "signer_email"):
        assert errors[name] == "Ce champ est obligatoire.", name
    assert errors["siren"] == "Chaîne de caractères attendue."  # sent, but not a string
