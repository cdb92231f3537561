"""Reminders are capped (issue 15 follow-up): at most `PARAPHE_REMINDER_MAX` (3) per signer and
request, scheduled and asked now alike; never within 24 hours of the invitation or of the last
link mailed; none once the signer is done or the request ended or would expire first. The
request's page and its API state say how many were sent and when the next is due. Twenty
runs of the reminder job at once remind once. Every run below has its own fixed `now`,
counted from the invitation time the sending recorded."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.auth.models import Role
from app.db import transaction
from app.rendering.french import format_datetime
from app.signatures import workflow
from app.signatures.models import Signer
from tests.factories import (
    crm_writer,
    login_as,
    make_client,
    make_quote,
    publish_short_cgv,
    runtime,
)
from tests.integration.helpers import outbox_messages
from tests.together import PARALLEL, at_once

DAY = timedelta(days=1)


@pytest.fixture
def writer(app: Flask) -> dict[str, str]:
    """A CRM's token (the CGV in force published: contracts can be generated)."""
    publish_short_cgv(app)
    return crm_writer(app)


def _sent(
    app: Flask, client: FlaskClient, writer: dict[str, str], body: dict[str, Any]
) -> tuple[int, int, datetime]:
    """A contract generated and sent through the API: (contract id, request id, when its
    signer was invited as the sending recorded it)."""
    quote_id = make_quote(app, make_client(app))
    generated = client.post(f"/api/v1/quotes/{quote_id}/contract", headers=writer)
    assert generated.status_code == 202, generated.get_json()
    version = generated.get_json()["version"]
    sent = client.post(version["links"]["signature_requests"], json=body, headers=writer)
    assert sent.status_code == 201, sent.get_json()
    request_id: int = sent.get_json()["id"]
    with transaction(runtime(app).session_factory) as session:
        [invited_at] = [
            s.notified_at for s in session.scalars(select(Signer).filter_by(request_id=request_id))
        ]
    assert invited_at is not None
    return version["contract_id"], request_id, invited_at


def _remind(app: Flask, now: datetime) -> int:
    """The reminder job's run at `now`: how many signers it reminded."""
    return workflow.remind(runtime(app).collaborators(now)).count


def _state(client: FlaskClient, writer: dict[str, str], request_id: int) -> dict[str, Any]:
    answer = client.get(f"/api/v1/signature-requests/{request_id}", headers=writer)
    assert answer.status_code == 200
    state: dict[str, Any] = answer.get_json()
    return state


def test_a_daily_cadence_sends_three_reminders_then_stops(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    contract_id, request_id, t0 = _sent(app, client, writer, {"reminder_every_days": 1})
    state = _state(client, writer, request_id)
    assert (state["reminders_sent"], state["reminders_max"]) == (0, 3)
    assert state["next_reminder_at"] == (t0 + DAY).isoformat()
    assert state["signers"][0]["next_reminder_at"] == (t0 + DAY).isoformat()

    sent = [_remind(app, t0 + day * DAY + timedelta(hours=1)) for day in range(1, 11)]
    assert sent == [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    state = _state(client, writer, request_id)
    assert (state["reminders_sent"], state["next_reminder_at"]) == (3, None)
    assert state["signers"][0]["reminders_sent"] == 3

    # a reminder asked now is refused too, with the reason in French
    refused = client.post(f"/api/v1/signature-requests/{request_id}/reminders", headers=writer)
    assert refused.status_code == 409
    assert "a déjà reçu 3 relances (le maximum)" in refused.get_json()["detail"]

    # the contract's page says it
    page = login_as(app, Role.SALES).get(f"/contrats/{contract_id}").get_data(as_text=True)
    assert "Relances : 3 envoyées sur 3 au plus, aucune autre prévue." in page


def test_a_late_run_catches_up_one_reminder_a_day(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    contract_id, request_id, t0 = _sent(app, client, writer, {"reminder_every_days": 1})
    # the job was down four days: one reminder now, not the two or three due by the calendar
    late = t0 + 5 * DAY
    assert _remind(app, late) == 1
    assert _remind(app, late + timedelta(hours=1)) == 0
    next_at = late + DAY
    assert _state(client, writer, request_id)["next_reminder_at"] == next_at.isoformat()
    page = login_as(app, Role.SALES).get(f"/contrats/{contract_id}").get_data(as_text=True)
    expected = f"Relances : 1 envoyée sur 3 au plus, prochaine le {format_datetime(next_at)}."
    assert expected in page
    assert _remind(app, next_at - timedelta(minutes=1)) == 0
    assert _remind(app, next_at) == 1


def test_no_reminder_once_the_request_ended_or_would_expire_first(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    _contract_id, request_id, t0 = _sent(
        app, client, writer, {"reminder_every_days": 2, "expires_in_days": 3}
    )
    assert _remind(app, t0 + 2 * DAY) == 1
    # the next would be due on day 4, after the deadline (day 3): none planned
    assert _state(client, writer, request_id)["next_reminder_at"] is None
    assert _remind(app, t0 + 4 * DAY - timedelta(minutes=1)) == 0

    _contract_id, other_id, t1 = _sent(app, client, writer, {"reminder_every_days": 1})
    cancelled = client.post(
        f"/api/v1/signature-requests/{other_id}/cancel",
        json={"reason": "Le client a signé sur papier."},
        headers=writer,
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["next_reminder_at"] is None
    assert _remind(app, t1 + 2 * DAY) == 0


def test_a_cap_of_zero_turns_reminders_off(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    rt = runtime(app)
    app.extensions["paraphe"] = replace(rt, settings=replace(rt.settings, reminder_max=0))
    contract_id, request_id, t0 = _sent(app, client, writer, {})
    assert _state(client, writer, request_id)["next_reminder_at"] is None
    assert _remind(app, t0 + 30 * DAY) == 0
    page = login_as(app, Role.SALES).get(f"/contrats/{contract_id}").get_data(as_text=True)
    assert "Relances : désactivées (PARAPHE_REMINDER_MAX vaut 0)." in page


@pytest.mark.committed_db  # threads on their own connections
def test_twenty_runs_at_once_send_one_reminder(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    _contract_id, request_id, t0 = _sent(app, client, writer, {"reminder_every_days": 2})
    now = t0 + 2 * DAY
    outbox = runtime(app).settings.outbox_dir
    mailed_before = len(outbox_messages(outbox))
    counts = at_once(lambda: _remind(app, now))
    assert sorted(counts) == [0] * (PARALLEL - 1) + [1]
    assert len(outbox_messages(outbox)) == mailed_before + 1
    state = _state(client, writer, request_id)
    assert state["reminders_sent"] == 1
    assert state["next_reminder_at"] == (t0 + 4 * DAY).isoformat()
