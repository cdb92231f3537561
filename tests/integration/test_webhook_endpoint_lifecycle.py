"""An endpoint deleted (its page after a confirmation, or `DELETE` in the API): its pending
deliveries cancelled, its log removed with it, the deletion journaled; and an endpoint that
becomes failing mails the admins once per failing period, through the mail outbox."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import ColumnElement, func, select

from app.audit.models import AuditEvent
from app.auth.models import Role, Scope
from app.config import Settings
from app.db import transaction, utcnow
from app.events.models import Event
from app.mail.models import OutgoingMailRecord
from app.webhooks import deliveries, rules, tasks
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.conftest import csrf_from
from tests.factories import login_as, make_fast_user, make_token, runtime, session_of
from tests.factories.webhooks import add_endpoint, only_delivery, terminate_client
from tests.integration.webhook_receiver import running_receiver


@pytest.fixture
def hooks_app(settings: Settings, make_app: Callable[[Settings], Flask]) -> Flask:
    return make_app(replace(settings, webhooks_allow_private=True))


def count(app: Flask, model: type, *where: ColumnElement[bool]) -> int:
    with session_of(app) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def journal(app: Flask, action: str) -> list[dict[str, Any]]:
    with session_of(app) as session:
        return [
            json.loads(e.details)
            for e in session.scalars(select(AuditEvent).where(AuditEvent.action == action))
        ]


def test_the_page_deletes_an_endpoint_after_a_confirmation(hooks_app: Flask) -> None:
    with running_receiver(statuses=[503]) as receiver:
        endpoint = add_endpoint(hooks_app, receiver.url)
        other = add_endpoint(hooks_app, receiver.url + "/autre")
        terminate_client(hooks_app)  # two deliveries: each failed once, waiting for a retry
        assert count(hooks_app, WebhookDelivery) == 2 and len(receiver.received) == 2
        assert (
            login_as(hooks_app, Role.SALES)
            .get(f"/admin/webhooks/{endpoint.id}/suppression")
            .status_code
            == 403
        )
        admin = login_as(hooks_app, Role.ADMIN)
        confirm = admin.get(f"/admin/webhooks/{endpoint.id}/suppression")
        text = confirm.get_data(as_text=True)
        assert confirm.status_code == 200 and "Supprimer définitivement" in text
        assert receiver.url in text and "journal des livraisons" in text
        # Without the form's CSRF token nothing is deleted.
        assert admin.post(f"/admin/webhooks/{endpoint.id}/suppression").status_code == 400
        assert count(hooks_app, WebhookEndpoint) == 2
        deleted = admin.post(
            f"/admin/webhooks/{endpoint.id}/suppression", data={"csrf_token": csrf_from(text)}
        )
        assert deleted.status_code == 302
        listing = admin.get(deleted.headers["Location"]).get_data(as_text=True)
        assert "1\u00a0livraison en attente annulée" in listing
        # Its delivery and attempts are gone, the other endpoint's are kept, the event stays.
        assert count(hooks_app, WebhookEndpoint) == 1
        [kept] = (only_delivery(hooks_app),)
        assert kept.endpoint_id == other.id
        assert count(hooks_app, WebhookAttempt) == 1 and count(hooks_app, Event) == 1
        [entry] = journal(hooks_app, "webhook.endpoint_deleted")
        assert entry["url"] == receiver.url and entry["pending_cancelled"] == 1
        assert entry["deliveries_removed"] == {"pending": 1}
        # The sweep re-enqueues what is due: nothing goes to the deleted endpoint.
        with time_machine.travel(utcnow() + timedelta(minutes=1), tick=False):
            tasks.sweep.run()
        assert [r.path for r in receiver.received].count("/hooks/paraphe") == 1
        assert admin.get(f"/admin/webhooks/{endpoint.id}/suppression").status_code == 404


def test_the_api_deletes_an_endpoint(hooks_app: Flask) -> None:
    http = hooks_app.test_client()
    admin = {"Authorization": f"Bearer {make_token(hooks_app, Scope.ADMIN)}"}
    reader = {"Authorization": f"Bearer {make_token(hooks_app, Scope.READ)}"}
    with running_receiver() as receiver:
        endpoint = add_endpoint(hooks_app, receiver.url)
        terminate_client(hooks_app)  # delivered
        url = f"/api/v1/webhook-endpoints/{endpoint.id}"
        assert http.delete(url, headers=reader).status_code == 403
        answer = http.delete(url, headers=admin)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert answer.get_json() == {
            "id": endpoint.id,
            "deleted": True,
            "url": receiver.url,
            "cancelled_deliveries": 0,
            "removed_deliveries": {"delivered": 1},
        }
        again = http.delete(url, headers=admin)
        assert again.status_code == 404 and again.mimetype == "application/problem+json"
        assert http.get(url, headers=admin).status_code == 404
        assert count(hooks_app, WebhookDelivery) == 0 and count(hooks_app, Event) == 1
        assert len(journal(hooks_app, "webhook.endpoint_deleted")) == 1


def failing_mails(app: Flask) -> list[OutgoingMailRecord]:
    with session_of(app) as session:
        found = list(
            session.scalars(
                select(OutgoingMailRecord)
                .where(OutgoingMailRecord.subject.startswith("Webhook en échec"))
                .order_by(OutgoingMailRecord.id)
            )
        )
        session.expunge_all()
        return found


def exhaust(delivery_id: int, start: datetime) -> datetime:
    """Run every retry of the schedule, time travelled; returns the time reached."""
    elapsed = timedelta()
    for wait in rules.RETRY_SCHEDULE:
        elapsed += wait + timedelta(seconds=1)
        with time_machine.travel(start + elapsed, tick=False):
            tasks.deliver.run(delivery_id)
    return start + elapsed


def test_a_failing_endpoint_mails_the_admins_once_per_failing_period(hooks_app: Flask) -> None:
    admins = [make_fast_user(hooks_app, Role.ADMIN, f"admin{n}@example.test") for n in (1, 2)]
    make_fast_user(hooks_app, Role.SALES)  # not told
    with running_receiver(statuses=[500] * 40) as receiver:
        endpoint = add_endpoint(hooks_app, receiver.url)
        start = utcnow()
        terminate_client(hooks_app)
        terminate_client(hooks_app)
        with session_of(hooks_app) as session:
            ids = list(session.scalars(select(WebhookDelivery.id).order_by(WebhookDelivery.id)))
        reached = exhaust(ids[0], start)
        exhaust(ids[1], start)  # the same failing period: no second mail
        mails = failing_mails(hooks_app)
        assert sorted(m.recipient for m in mails) == admins
        text = mails[0].text
        assert f"n° {endpoint.id}" in text and receiver.url in text
        assert f"{runtime(hooks_app).settings.base_url}/admin/webhooks/{endpoint.id}" in text
        # Recovered (a delivery accepted), then failing again: told again, once.
        receiver.statuses.clear()
        with time_machine.travel(reached + timedelta(hours=1), tick=False):
            with transaction(runtime(hooks_app).session_factory) as session:
                deliveries.redeliver(session, ids[0], now=utcnow())
            tasks.deliver.run(ids[0])
        with session_of(hooks_app) as session:
            assert session.get_one(WebhookEndpoint, endpoint.id).failing_since is None
        receiver.statuses.extend([500] * 10)
        later = reached + timedelta(days=2)
        with time_machine.travel(later, tick=False):
            with transaction(runtime(hooks_app).session_factory) as session:
                deliveries.redeliver(session, ids[1], now=utcnow())
            tasks.deliver.run(ids[1])
        exhaust(ids[1], later)
        assert len(failing_mails(hooks_app)) == 4
