"""The pages follow the seal, which runs as a job after the last signature: the signer's page
and the contract page read the same progress (`app.signatures.progress`), rendered by the
server and polled as JSON by `static/progress.js`."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.signatures import tasks
from app.signatures.models import SignatureRequest
from app.signatures.progress import POLL_FAILING_SECONDS, POLL_SEALING_SECONDS
from tests.factories import (
    count,
    login_as,
    make_contracted_client,
    publish_short_cgv,
    send_contract,
    session_of,
    sign_token,
)
from tests.factories.signing import seal_failing


@pytest.fixture
def signed_unsealed(app: Flask, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """A contract signed by its only signer whose seal job has not run yet (it waits in the
    queue): (contract id, signer's token)."""
    publish_short_cgv(app)
    contracted = make_contracted_client(app)
    token = send_contract(app, contracted.contract_id).rsplit("/", 1)[1]
    with monkeypatch.context() as queue_held:
        queue_held.setattr(tasks.seal_request, "enqueue", lambda *_args: None)
        assert sign_token(app, token).completed
    return contracted.contract_id, token


def _json(browser: FlaskClient, url: str) -> dict[str, Any]:
    response = browser.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert isinstance(data, dict)
    return data


def test_the_signer_sees_the_signature_recorded_then_the_download(
    app: Flask, signed_unsealed: tuple[int, str]
) -> None:
    _contract_id, token = signed_unsealed
    browser = app.test_client()

    page = browser.get(f"/signature/{token}/termine").get_data(as_text=True)
    assert "<h1>Signature enregistrée</h1>" in page
    assert "le document est en cours de scellement par la plateforme" in page
    assert f'data-progress-url="/signature/{token}/etat"' in page
    assert f'data-poll-after="{POLL_SEALING_SECONDS}"' in page
    # without JavaScript: a link reloads the page; the download button is not there yet
    assert f'id="reload" href="/signature/{token}/termine"' in page
    assert 'id="download" href="#" hidden' in page
    assert "/static/progress.js" in page

    journal = count(app, AuditEvent)
    state = _json(browser, f"/signature/{token}/etat")
    assert state == {
        "stage": "sealing",
        "message": "Toutes les parties ont signé ; le document est en cours de scellement par "
        "la plateforme. Vous recevrez aussi le lien du document signé par e-mail.",
        "poll_after": POLL_SEALING_SECONDS,
        "download_url": None,
        "sha256": None,
    }
    assert count(app, AuditEvent) == journal  # polling reads only: nothing journaled

    tasks.seal_request.run(_request_id(app))  # the worker's turn

    state = _json(browser, f"/signature/{token}/etat")
    assert state["stage"] == "sealed" and state["poll_after"] is None
    assert state["download_url"] == f"/signature/{token}/document-signe.pdf"
    download = browser.get(state["download_url"])
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert state["sha256"] == hashlib.sha256(download.data).hexdigest()
    # a reload now shows the finished page, with the button
    page = browser.get(f"/signature/{token}/termine").get_data(as_text=True)
    assert "Merci, le contrat est signé" in page and 'id="download"' in page
    assert "progress.js" not in page


def test_a_failing_seal_says_it_is_retried(app: Flask, signed_unsealed: tuple[int, str]) -> None:
    contract_id, token = signed_unsealed

    with seal_failing(app):
        # inline: one attempt, failed; the request records it and the sweep retries it
        tasks.seal_request.enqueue(_request_id(app))

    state = _json(app.test_client(), f"/signature/{token}/etat")
    assert state["stage"] == "seal_failing" and state["poll_after"] == POLL_FAILING_SECONDS
    assert "relancé automatiquement" in state["message"] and state["download_url"] is None
    assert "horodatage" not in state["message"]  # no technical detail for the signer

    sales = login_as(app, Role.SALES)
    followed = _json(sales, f"/contrats/{contract_id}/suivi.json")
    (request,) = followed["requests"]
    assert request["stage"] == "seal_failing" and request["label"] == "signée, échec du cachet"
    assert request["detail"].startswith("1 essai sans succès ; il sera retenté automatiquement")
    assert followed["poll_after"] == POLL_FAILING_SECONDS
    page = sales.get(f"/contrats/{contract_id}").get_data(as_text=True)
    assert "signée, échec du cachet" in page and "1 essai sans succès" in page


def test_the_contract_page_follows_each_request_until_sealed(app: Flask) -> None:
    publish_short_cgv(app)
    contracted = make_contracted_client(app)
    token = send_contract(app, contracted.contract_id).rsplit("/", 1)[1]
    sales = login_as(app, Role.SALES)
    url = f"/contrats/{contracted.contract_id}/suivi.json"

    sent = _json(sales, url)
    (request,) = sent["requests"]
    assert request["stage"] == "waiting_signatures" and request["active"] is True
    assert request["label"] == "envoyée, en attente des signatures"
    assert [s["signed_at"] for s in request["signers"]] == [None]
    assert sent["poll_after"] == 30  # people take their time: the page asks rarely
    assert sent["versions"] == [
        {"number": 1, "status": "envoyée pour signature", "signed_pdf_url": None}
    ]
    page = sales.get(f"/contrats/{contracted.contract_id}").get_data(as_text=True)
    assert f'data-progress-url="{url}"' in page and 'data-poll-after="30"' in page
    # « version » is feminine: the badge agrees (the contract lists keep « envoyé »)
    assert 'id="status-v1">envoyée pour signature<' in page
    assert f'id="request-{request["id"]}">envoyée, en attente des signatures<' in page
    assert f'id="evidence-{request["id"]}" href="#" hidden' in page

    sign_token(app, token)  # inline: the seal job runs at once

    done = _json(sales, url)
    (request,) = done["requests"]
    assert request["stage"] == "sealed" and request["label"] == "signée et scellée"
    assert request["active"] is False and request["detail"] is None
    assert request["signers"][0]["status"] == "signé" and request["signers"][0]["signed_at"]
    assert request["evidence_pdf_url"] == f"/demandes-signature/{request['id']}/preuve.pdf"
    assert done["versions"][0]["status"] == "signée"
    assert (
        done["versions"][0]["signed_pdf_url"] == f"/contrats/{contracted.contract_id}/v1/signe.pdf"
    )
    assert sales.get(done["versions"][0]["signed_pdf_url"]).status_code == 200
    assert done["poll_after"] is None  # nothing pending: the page stops asking
    page = sales.get(f"/contrats/{contracted.contract_id}").get_data(as_text=True)
    assert 'data-poll-after=""' in page


def test_the_progress_json_is_for_those_who_see_the_contract(app: Flask) -> None:
    publish_short_cgv(app)
    contracted = make_contracted_client(app)
    url = f"/contrats/{contracted.contract_id}/suivi.json"
    assert app.test_client().get(url).status_code == 302  # to the login page
    assert login_as(app, Role.ADMIN).get(url).status_code == 403
    assert login_as(app, Role.LEGAL).get(url).status_code == 200
    assert app.test_client().get("/signature/inconnu/etat").status_code == 404


def _request_id(app: Flask) -> int:
    with session_of(app) as session:
        return int(session.scalars(select(SignatureRequest.id)).one())
