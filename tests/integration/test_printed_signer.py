"""The client's signer is the person printed on the version (issue 15): stored with the version
at generation, invited at sending even if the client record was corrected since; a CRM may
name that signer in the generation's body, and a reminder cadence in the send's body."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from app.auth.models import Role
from app.contracts.models import ContractVersion
from app.db import transaction
from app.signatures import lifecycle
from app.signatures.models import SignatureRequest, Signer
from tests.factories import (
    crm_writer,
    login_as,
    make_client,
    make_contracted_client,
    make_quote,
    publish_short_cgv,
    runtime,
)
from tests.factories.sales import VALID_CLIENT
from tests.integration.helpers import outbox_messages, post_form, problem_fields

PRINTED = VALID_CLIENT["signer_email"]
CORRECTED = "paul.durand@example.fr"


@pytest.fixture
def writer(app: Flask) -> dict[str, str]:
    """A CRM's token: it writes (generation, correction, send) and reads what it made."""
    return crm_writer(app)


def refused(response: Any) -> set[str]:
    """The members a 422 names."""
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return set(problem_fields(response.get_json()))


def _generate(
    app: Flask, client: FlaskClient, writer: dict[str, str], body: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    """Version 1 generated through the API (rendered inline by the job): (client id, version)."""
    publish_short_cgv(app)
    client_id = make_client(app)
    quote_id = make_quote(app, client_id)
    generated = client.post(f"/api/v1/quotes/{quote_id}/contract", json=body, headers=writer)
    assert generated.status_code == 202, generated.get_json()
    version: dict[str, Any] = generated.get_json()["version"]
    return client_id, version


def _pdf_text(app: Flask, version: dict[str, Any]) -> str:
    data = runtime(app).store.get(version["sha256"])
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_printed_signer_is_invited_not_the_corrected_record(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    client_id, version = _generate(app, client, writer)
    assert version["signer"] == {
        "name": VALID_CLIENT["signer_name"],
        "email": PRINTED,
        "title": None,  # the record has none
    }
    corrected = client.patch(
        f"/api/v1/clients/{client_id}",
        json={"signer_name": "Paul Durand", "signer_email": CORRECTED},
        headers=writer,
    )
    assert corrected.status_code == 200, corrected.get_json()

    sent = client.post(version["links"]["signature_requests"], headers=writer)
    assert sent.status_code == 201, sent.get_json()
    [signer] = sent.get_json()["signers"]
    assert (signer["name"], signer["email"]) == (VALID_CLIENT["signer_name"], PRINTED)
    invited = [m["To"] for m in outbox_messages(runtime(app).settings.outbox_dir)]
    assert PRINTED in invited and CORRECTED not in invited
    # the web page offers to send to the printed person as well
    with transaction(runtime(app).session_factory) as session:
        row = session.scalars(select(ContractVersion)).one()
        assert (row.signer_name, row.signer_email) == (VALID_CLIENT["signer_name"], PRINTED)


def test_the_generation_body_names_the_client_signer(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    named = {"name": "  Jeanne Roux ", "email": "Jeanne.Roux@Example.FR"}
    client_id, version = _generate(app, client, writer, {"signer": named})
    assert version["signer"] == {
        "name": "Jeanne Roux",
        "email": "Jeanne.Roux@example.fr",
        "title": None,
    }
    assert "Jeanne Roux" in _pdf_text(app, version)  # printed on the signature page

    # version n+1: the body's signer again, else the client record's
    url = f"/api/v1/contracts/{version['contract_id']}/versions"
    other = {"name": "Luc Blanc", "email": "luc@example.fr"}
    second = client.post(
        url, json={"reason": "Signataire changé.", "signer": other}, headers=writer
    )
    assert second.status_code == 202, second.get_json()
    assert second.get_json()["version"]["signer"] == {**other, "title": None}
    third = client.post(url, json={"reason": "Retour à la fiche."}, headers=writer)
    assert third.status_code == 202, third.get_json()
    assert third.get_json()["version"]["signer"]["email"] == PRINTED

    quote_id = make_quote(app, client_id)
    generate = f"/api/v1/quotes/{quote_id}/contract"
    for signer, members in (
        ({"name": "Jeanne", "email": "pas-une-adresse"}, {"signer.email"}),
        ({"name": "Jeanne\x07", "email": "j@example.fr"}, {"signer.name"}),
        ({"name": "J" * 201, "email": "j@example.fr"}, {"signer.name"}),
        ({"name": "", "email": "j@example.fr"}, {"signer.name"}),
        ({"name": "Jeanne"}, {"signer.email"}),
        ({"name": "Jeanne", "email": "j@example.fr", "phone": "0"}, {"signer.phone"}),
        ({"name": "Jeanne", "email": "é" + "@example.fr"}, {"signer.email"}),
    ):
        answer = client.post(generate, json={"signer": signer}, headers=writer)
        assert refused(answer) == members, signer


def _sent(
    app: Flask, client: FlaskClient, writer: dict[str, str], body: dict[str, Any] | None
) -> tuple[int, datetime]:
    """The request sent through the API, and when its signer was invited (as the sending
    recorded it): each reminder run below is a fixed `now` counted from that moment."""
    _client_id, version = _generate(app, client, writer)
    sent = client.post(version["links"]["signature_requests"], json=body, headers=writer)
    assert sent.status_code == 201, sent.get_json()
    with transaction(runtime(app).session_factory) as session:
        [invited_at] = [s.notified_at for s in session.scalars(select(Signer))]
    assert invited_at is not None
    request_id: int = sent.get_json()["id"]
    return request_id, invited_at


def _remind(app: Flask, now: datetime) -> int:
    with transaction(runtime(app).session_factory) as session:
        settings = runtime(app).settings
        reminded = lifecycle.due_reminders(
            session, now=now, schedule=settings.reminder_days, at_most=settings.reminder_max
        )
        return len(reminded)


def test_a_request_with_its_own_cadence_is_reminded_every_n_days(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    request_id, t0 = _sent(app, client, writer, {"reminder_every_days": 2})
    assert _remind(app, t0 + timedelta(days=2) - timedelta(minutes=1)) == 0
    assert _remind(app, t0 + timedelta(days=2)) == 1
    assert _remind(app, t0 + timedelta(days=3)) == 0  # the instance's day 3 does not apply
    assert _remind(app, t0 + timedelta(days=4) - timedelta(minutes=1)) == 0
    assert _remind(app, t0 + timedelta(days=4)) == 1
    with transaction(runtime(app).session_factory) as session:
        request = session.get_one(SignatureRequest, request_id)
        assert request.reminder_every_days == 2
        assert [s.reminders_sent for s in request.signers] == [2]


def test_without_a_cadence_the_instance_schedule_applies(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    _request_id, t0 = _sent(app, client, writer, {"reminder_every_days": None})
    first = runtime(app).settings.reminder_days[0]
    assert _remind(app, t0 + timedelta(days=first) - timedelta(minutes=1)) == 0
    assert _remind(app, t0 + timedelta(days=first)) == 1


def test_a_cadence_out_of_bounds_is_refused(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    _client_id, version = _generate(app, client, writer)
    for every in (0, 31, "2", 2.5, True):
        answer = client.post(
            version["links"]["signature_requests"],
            json={"reminder_every_days": every},
            headers=writer,
        )
        assert refused(answer) == {"reminder_every_days"}, every


def test_the_send_form_sets_the_cadence_and_refuses_a_forged_one(app: Flask) -> None:
    publish_short_cgv(app)
    contract_id = make_contracted_client(app).contract_id
    sales = login_as(app, Role.SALES)
    page = f"/contrats/{contract_id}"
    assert 'name="reminder_every_days"' in sales.get(page).get_data(as_text=True)
    forged = post_form(sales, page, {"reminder_every_days": "0"}, f"{page}/v1/envoyer")
    assert forged.status_code == 302
    with transaction(runtime(app).session_factory) as session:
        assert session.scalars(select(SignatureRequest)).all() == []
    sent = post_form(sales, page, {"reminder_every_days": "3"}, f"{page}/v1/envoyer")
    assert sent.status_code == 302
    with transaction(runtime(app).session_factory) as session:
        assert session.scalars(select(SignatureRequest)).one().reminder_every_days == 3
