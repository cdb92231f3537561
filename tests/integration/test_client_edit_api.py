"""Lost updates, the HTTP way and under load: the API's GET gives the client's revision as an
ETag, a PATCH whose If-Match names another one is refused (412) and writes nothing, a PATCH
without If-Match still applies (CRMs in the field do not send it); twenty submissions of the
web form from one revision at once make one change and one journal entry."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.clients.errors import ClientAlreadyTerminated
from app.clients.models import Client
from app.clients.services import get_client, terminate
from app.clock import business_date
from app.db import transaction, utcnow
from tests.conftest import csrf_from
from tests.factories import crm_writer, login_as, make_client, runtime, session_of
from tests.factories.sales import VALID_CLIENT
from tests.integration.helpers import fire_together, tabs_of
from tests.integration.test_client_edit import edit_url, form_values
from tests.together import PARALLEL, run_together


@pytest.fixture
def crm(app: Flask) -> dict[str, str]:
    return crm_writer(app)


def city_and_updates(app: Flask, client_id: int) -> tuple[str, int]:
    with session_of(app) as session:
        client = session.get(Client, client_id)
        assert client is not None
        updates = session.scalars(
            select(AuditEvent).where(
                AuditEvent.client_id == client_id, AuditEvent.action == "client.updated"
            )
        ).all()
        return client.city, len(updates)


def test_if_match_guards_a_patch_and_its_absence_does_not(
    app: Flask, client: FlaskClient, crm: dict[str, str]
) -> None:
    client_id = make_client(app)
    url = f"/api/v1/clients/{client_id}"
    read = client.get(url, headers=crm)
    assert read.status_code == 200 and read.headers["ETag"] == '"1"'

    matched = client.patch(url, json={"city": "Bron"}, headers={**crm, "If-Match": '"1"'})
    assert matched.status_code == 200, matched.get_json()
    assert matched.headers["ETag"] == '"2"' and matched.get_json()["city"] == "Bron"
    assert client.get(url, headers=crm).headers["ETag"] == '"2"'

    for stale in ('"1"', 'W/"2"', '"deux"', '"1", "3"', '""', 'W/""'):  # "": Werkzeug reads None
        refused = client.patch(url, json={"city": "Vienne"}, headers={**crm, "If-Match": stale})
        assert refused.status_code == 412, (stale, refused.get_json())
        assert refused.mimetype == "application/problem+json"
        body = refused.get_json()
        assert body["revision"] == 2 and "modifiée entre-temps" in body["detail"]
    assert city_and_updates(app, client_id) == ("Bron", 1)
    invalid_too = client.patch(url, json={"siren": "1"}, headers={**crm, "If-Match": '"1"'})
    assert invalid_too.status_code == 412  # a precondition is checked before the body

    listed = client.patch(url, json={"city": "Vienne"}, headers={**crm, "If-Match": '"1", "2"'})
    assert listed.status_code == 200 and listed.headers["ETag"] == '"3"'
    anything = client.patch(url, json={"city": "Givors"}, headers={**crm, "If-Match": "*"})
    assert anything.status_code == 200 and anything.headers["ETag"] == '"4"'
    unconditional = client.patch(url, json={"city": "Oullins"}, headers=crm)
    assert unconditional.status_code == 200 and unconditional.headers["ETag"] == '"5"'
    assert city_and_updates(app, client_id) == ("Oullins", 4)


def test_a_stale_if_match_is_said_in_english_to_who_prefers_it(
    app: Flask, client: FlaskClient, crm: dict[str, str]
) -> None:
    client_id = make_client(app)
    refused = client.patch(
        f"/api/v1/clients/{client_id}",
        json={"city": "Bron"},
        headers={**crm, "If-Match": '"7"', "Accept-Language": "en"},
    )
    assert refused.status_code == 412
    assert refused.get_json()["title"] == "Client changed in the meantime"
    assert "changed in the meantime by someone else" in refused.get_json()["detail"]


@pytest.mark.committed_db  # twenty submissions on their own connections
def test_twenty_submissions_of_one_revision_make_one_change(app: Flask) -> None:
    client_id = make_client(app)
    sales = login_as(app, Role.SALES)
    opened = form_values(sales.get(edit_url(client_id)).get_data(as_text=True))
    assert opened["revision"] == "1"
    # each tab types another city: which one landed says which submission won
    forms = [{**opened, "city": f"Ville {n}"} for n in range(PARALLEL)]
    tabs = tabs_of(app, sales)

    def send(n: int) -> TestResponse:
        return tabs[n].post(edit_url(client_id), data=forms[n])

    responses = run_together(PARALLEL, send)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [302] + [409] * (PARALLEL - 1), statuses
    [winner] = [forms[n]["city"] for n, r in enumerate(responses) if r.status_code == 302]
    assert city_and_updates(app, client_id) == (winner, 1)
    with session_of(app) as session:
        stored = session.get(Client, client_id)
        assert stored is not None and stored.revision == 2
        assert stored.signer_name == VALID_CLIENT["signer_name"]


@pytest.mark.committed_db  # twenty submissions on their own connections
def test_twenty_clicks_of_the_invoices_setting_still_land_once(app: Flask) -> None:
    """The revision refuses a change of an older reading: the client's other writers lock the
    row first, so a double click waits and finds the setting made instead of failing."""
    client_id = make_client(app)
    sales = login_as(app, Role.SALES)
    page = f"/clients/{client_id}/facturation"
    token = csrf_from(sales.get(page).get_data(as_text=True))

    responses = fire_together(
        app, sales, lambda tab: tab.post(f"{page}/envoi", data={"csrf_token": token})
    )

    assert sorted(r.status_code for r in responses) == [302] * PARALLEL
    with session_of(app) as session:
        stored = session.get(Client, client_id)
        assert stored is not None and stored.send_invoices_by_email is False
        assert stored.revision == 2
        changes = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "client.invoices_by_email_changed")
        ).all()
        assert len(changes) == 1


@pytest.mark.committed_db  # twenty transactions on their own connections
def test_twenty_terminations_at_once_record_one(app: Flask) -> None:
    client_id = make_client(app)
    factory = runtime(app).session_factory

    def end(_n: int) -> str:
        try:
            with transaction(factory) as session:
                terminate(
                    session,
                    get_client(session, client_id),
                    on=business_date(utcnow()),
                    reason="",
                    actor="test",
                    now=utcnow(),
                )
        except ClientAlreadyTerminated:
            return "already"
        return "terminated"

    outcomes = run_together(PARALLEL, end)
    assert sorted(outcomes) == ["already"] * (PARALLEL - 1) + ["terminated"], outcomes
