"""Webhook deliveries to a real receiver on loopback, each verified with the standardwebhooks
package: signatures and headers, retries on the webhooks' own schedule (time travelled, no
sleeping), a failing endpoint, secret rotation, refused addresses, the admin page and the
API."""

from __future__ import annotations

import html
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from standardwebhooks import Webhook

from app.auth.models import Role, Scope
from app.config import Settings
from app.db import transaction, utcnow
from app.events.models import Event
from app.webhooks import deliveries, endpoints, rules, tasks
from app.webhooks.endpoints import EndpointInput
from app.webhooks.errors import EndpointInvalid
from app.webhooks.models import (
    AttemptOutcome,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.conftest import csrf_from
from tests.factories import login_as, make_client, make_token, runtime, session_of
from tests.factories.webhooks import add_endpoint, attempts, only_delivery, terminate_client
from tests.integration.webhook_receiver import Receiver, running_receiver


@pytest.fixture
def hooks_app(settings: Settings, make_app: Callable[[Settings], Flask]) -> Flask:
    """The application with deliveries to loopback allowed (the receiver runs there)."""
    return make_app(replace(settings, webhooks_allow_private=True))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def verified(secret: str, received: Any) -> Any:
    return Webhook(secret).verify(received.body, received.headers)


def test_a_delivery_is_signed_per_the_standard(hooks_app: Flask, receiver: Receiver) -> None:
    endpoint = add_endpoint(hooks_app, receiver.url)
    assert endpoint.secret.startswith("whsec_")
    client_id = terminate_client(hooks_app)
    assert len(receiver.received) == 1
    post = receiver.received[0]
    body = verified(endpoint.secret, post)
    with session_of(hooks_app) as session:
        event = session.scalars(select(Event).where(Event.type == "client.terminated")).one()
    assert post.path == "/hooks/paraphe"
    assert post.headers["webhook-id"] == event.public_id
    assert post.headers["content-type"] == "application/json"
    assert post.headers["webhook-signature"].startswith("v1,")
    assert body["type"] == "client.terminated"
    base = runtime(hooks_app).settings.base_url
    assert body["data"] == {
        "object": "client",
        "id": client_id,
        "sequence": 1,
        "links": {"api": f"{base}/api/v1/clients/{client_id}/cgv"},
        "terminated_on": "2026-06-30",
    }
    delivery = only_delivery(hooks_app)
    assert delivery.status is DeliveryStatus.DELIVERED and delivery.attempts == 1
    [attempt] = attempts(hooks_app)
    assert attempt.outcome is AttemptOutcome.SUCCEEDED and attempt.status_code == 200
    assert attempt.response_excerpt == "réponse 200" and attempt.latency_ms is not None
    # A job run again (a retry, the sweep) sends nothing more.
    tasks.deliver.run(delivery.id)
    tasks.sweep.run()
    assert len(receiver.received) == 1


def test_an_unsubscribed_or_disabled_endpoint_gets_nothing(
    hooks_app: Flask, receiver: Receiver
) -> None:
    add_endpoint(hooks_app, receiver.url, types=("quote.created",))
    terminate_client(hooks_app)
    assert receiver.received == []
    with session_of(hooks_app) as session:
        assert session.scalars(select(WebhookDelivery)).first() is None


def test_500_three_times_then_200_is_delivered_once_with_each_attempt_logged(
    hooks_app: Flask,
) -> None:
    with running_receiver(statuses=[500, 500, 500]) as receiver:
        endpoint = add_endpoint(hooks_app, receiver.url)
        start = utcnow()
        terminate_client(hooks_app)
        delivery_id = only_delivery(hooks_app).id
        assert only_delivery(hooks_app).status is DeliveryStatus.PENDING
        verified(endpoint.secret, receiver.received[0])
        elapsed = timedelta()
        for wait in rules.RETRY_SCHEDULE[:3]:
            elapsed += wait + timedelta(seconds=1)
            with time_machine.travel(start + elapsed, tick=False):
                tasks.deliver.run(delivery_id)  # what the scheduled job does when due
                verified(endpoint.secret, receiver.received[-1])  # signed at its own time
        assert len(receiver.received) == 4
        assert {p.headers["webhook-id"] for p in receiver.received} == {
            receiver.received[0].headers["webhook-id"]
        }  # the same message id: the receiver can deduplicate
        delivery = only_delivery(hooks_app)
        assert delivery.status is DeliveryStatus.DELIVERED and delivery.attempts == 4
        logged = attempts(hooks_app)
        assert [a.status_code for a in logged] == [500, 500, 500, 200]
        assert [a.outcome for a in logged] == [AttemptOutcome.FAILED] * 3 + [
            AttemptOutcome.SUCCEEDED
        ]
        assert logged[0].error == "réponse 500" and logged[0].response_excerpt == "réponse 500"
        # Delivered: no further attempt, even much later.
        with time_machine.travel(start + timedelta(days=2), tick=False):
            tasks.deliver.run(delivery_id)
        assert len(receiver.received) == 4


def test_an_attempt_before_its_time_sends_nothing(hooks_app: Flask) -> None:
    with running_receiver(statuses=[503]) as receiver:
        add_endpoint(hooks_app, receiver.url)
        terminate_client(hooks_app)
        tasks.deliver.run(only_delivery(hooks_app).id)  # 5 s not yet passed
        assert len(receiver.received) == 1


def test_retries_span_more_than_a_day_then_the_endpoint_is_failing(hooks_app: Flask) -> None:
    assert sum(rules.RETRY_SCHEDULE, timedelta()) >= timedelta(hours=24)
    with running_receiver(statuses=[500] * 20) as receiver:
        add_endpoint(hooks_app, receiver.url)
        start = utcnow()
        terminate_client(hooks_app)
        delivery_id = only_delivery(hooks_app).id
        elapsed = timedelta()
        for wait in rules.RETRY_SCHEDULE:
            elapsed += wait + timedelta(seconds=1)
            with time_machine.travel(start + elapsed, tick=False):
                tasks.deliver.run(delivery_id)
        assert len(receiver.received) == len(rules.RETRY_SCHEDULE) + 1 == 8
        delivery = only_delivery(hooks_app)
        assert delivery.status is DeliveryStatus.FAILED and delivery.next_attempt_at is None
        with session_of(hooks_app) as session:
            endpoint = session.scalars(select(WebhookEndpoint)).one()
            assert endpoint.failing_since is not None
        # The admins see it on the page.
        page = login_as(hooks_app, Role.ADMIN).get("/admin/webhooks").get_data(as_text=True)
        assert "en échec depuis le" in page
        # Redelivered after the receiver is fixed: accepted, the alert lifted.
        receiver.statuses.clear()
        with time_machine.travel(start + elapsed + timedelta(hours=1), tick=False):
            with transaction(runtime(hooks_app).session_factory) as session:
                deliveries.redeliver(session, delivery_id, now=utcnow())
            tasks.deliver.run(delivery_id)
        assert only_delivery(hooks_app).status is DeliveryStatus.DELIVERED
        with session_of(hooks_app) as session:
            assert session.scalars(select(WebhookEndpoint)).one().failing_since is None


def test_after_a_rotation_both_secrets_sign_for_a_day(hooks_app: Flask, receiver: Receiver) -> None:
    endpoint = add_endpoint(hooks_app, receiver.url)
    old = endpoint.secret
    with transaction(runtime(hooks_app).session_factory) as session:
        new = endpoints.rotate(session, endpoint.id, now=utcnow(), actor="test").secret
    assert new != old
    client_id = make_client(hooks_app)
    terminate_client(hooks_app, client_id)
    post = receiver.received[-1]
    assert len(post.headers["webhook-signature"].split(" ")) == 2
    verified(old, post)
    verified(new, post)
    later = utcnow() + rules.SECRET_GRACE + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        terminate_client(hooks_app)
        post = receiver.received[-1]
        assert len(post.headers["webhook-signature"].split(" ")) == 1
        verified(new, post)
        with pytest.raises(Exception, match="No matching signature"):
            verified(old, post)


class _Connections:
    """Every socket connection this process attempts (an audit hook: no fake, the real
    socket module reports them)."""

    def __init__(self) -> None:
        self.addresses: list[Any] = []
        self.recording = False
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if self.recording and event == "socket.connect":
            self.addresses.append(args[1])


_CONNECTIONS = _Connections()


@pytest.mark.parametrize(
    "url",
    ["http://10.0.0.1/hooks", "http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:9/"],
)
def test_private_and_link_local_addresses_are_refused_without_a_connection(
    app: Flask, url: str
) -> None:
    assert not runtime(app).settings.webhooks_allow_private  # the default
    add_endpoint(app, url)
    _CONNECTIONS.addresses.clear()
    _CONNECTIONS.recording = True
    try:
        terminate_client(app)
    finally:
        _CONNECTIONS.recording = False
    assert _CONNECTIONS.addresses == []
    [attempt] = attempts(app)
    assert attempt.outcome is AttemptOutcome.REFUSED
    assert attempt.error is not None and "refusée" in attempt.error
    assert attempt.latency_ms is None and attempt.status_code is None


def test_a_receiver_that_is_down_is_retried_with_the_reason_in_french(hooks_app: Flask) -> None:
    with socket.socket() as probe:  # a port nobody listens on any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    add_endpoint(hooks_app, f"http://127.0.0.1:{port}/hooks")
    terminate_client(hooks_app)
    [attempt] = attempts(hooks_app)
    assert attempt.outcome is AttemptOutcome.FAILED and attempt.error == "connexion refusée"
    delivery = only_delivery(hooks_app)
    assert delivery.status is DeliveryStatus.PENDING and delivery.failures == 1


def test_https_is_required_when_the_instance_is_served_over_https(
    settings: Settings, make_app: Callable[[Settings], Flask], receiver: Receiver
) -> None:
    app = make_app(
        replace(settings, webhooks_allow_private=True, base_url="https://paraphe.example")
    )
    with (
        transaction(runtime(app).session_factory) as session,
        pytest.raises(EndpointInvalid) as refused,
    ):
        endpoints.create(
            session,
            EndpointInput(url=receiver.url, event_types=["client.terminated"]),
            require_https=True,
            now=utcnow(),
            actor="test",
        )
    assert "https://" in refused.value.errors["url"]


def test_the_admin_page_creates_an_endpoint_and_sends_a_test_event(
    hooks_app: Flask, receiver: Receiver
) -> None:
    admin = login_as(hooks_app, Role.ADMIN)
    page = admin.get("/admin/webhooks")
    assert page.status_code == 200 and "Nouveau point de réception" in page.get_data(as_text=True)
    created = admin.post(
        "/admin/webhooks",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "url": receiver.url,
            "description": "CRM HubSpot",
            "event_types": ["client.terminated", "signer.signed"],
            "enabled": "y",
        },
    )
    text = created.get_data(as_text=True)
    assert created.status_code == 200 and "Copiez son secret maintenant" in text
    with session_of(hooks_app) as session:
        endpoint = session.scalars(select(WebhookEndpoint)).one()
        assert endpoint.secret in text and endpoint.event_types == [
            "client.terminated",
            "signer.signed",
        ]
    # The secret is never shown again.
    detail = admin.get(f"/admin/webhooks/{endpoint.id}")
    assert endpoint.secret not in detail.get_data(as_text=True)
    sent = admin.post(
        f"/admin/webhooks/{endpoint.id}/test",
        data={"csrf_token": csrf_from(detail.get_data(as_text=True))},
    )
    assert sent.status_code == 302
    [post] = receiver.received
    assert verified(endpoint.secret, post)["type"] == "webhook.test"
    log = admin.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "webhook.test" in log and "acceptée" in log and "HTTP 200" in log
    # Disabled: nothing more is sent.
    disabled = admin.post(
        f"/admin/webhooks/{endpoint.id}",
        data={
            "csrf_token": csrf_from(detail.get_data(as_text=True)),
            "url": receiver.url,
            "description": "CRM HubSpot",
            "event_types": ["client.terminated"],
        },
    )
    assert disabled.status_code == 302
    terminate_client(hooks_app)
    assert len(receiver.received) == 1


def test_the_admin_page_refuses_bad_input_and_other_roles(hooks_app: Flask) -> None:
    admin = login_as(hooks_app, Role.ADMIN)
    page = admin.get("/admin/webhooks")
    refused = admin.post(
        "/admin/webhooks",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "url": "ftp://exemple.fr",
            "event_types": [],
        },
    )
    text = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert "Choisissez au moins un type d'événement." in text
    no_csrf = admin.post("/admin/webhooks", data={"url": "https://exemple.fr"})
    assert no_csrf.status_code in {400, 422}
    assert login_as(hooks_app, Role.SALES).get("/admin/webhooks").status_code == 403


def test_the_api_manages_endpoints_and_serves_events_for_polling(
    hooks_app: Flask, receiver: Receiver
) -> None:
    http = hooks_app.test_client()
    admin = {"Authorization": f"Bearer {make_token(hooks_app, Scope.ADMIN)}"}
    reader = {"Authorization": f"Bearer {make_token(hooks_app, Scope.READ)}"}
    body = {"url": receiver.url, "event_types": ["client.terminated"], "description": "ERP"}
    assert http.post("/api/v1/webhook-endpoints", json=body, headers=reader).status_code == 403
    created = http.post("/api/v1/webhook-endpoints", json=body, headers=admin)
    assert created.status_code == 201
    endpoint = created.get_json()
    assert endpoint["secret"].startswith("whsec_") and endpoint["enabled"] is True
    listed = http.get("/api/v1/webhook-endpoints", headers=admin).get_json()
    assert "secret" not in listed["items"][0]
    bad = http.post(
        "/api/v1/webhook-endpoints", json={**body, "event_types": ["nope"]}, headers=admin
    )
    assert bad.status_code == 422 and "event_types" in bad.get_data(as_text=True)

    first = terminate_client(hooks_app)
    second = terminate_client(hooks_app)
    log = http.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries", headers=admin)
    assert [d["status"] for d in log.get_json()["items"]] == ["delivered", "delivered"]
    assert len(receiver.received) == 2

    page = http.get("/api/v1/events", headers=reader).get_json()
    terminated = [e for e in page["items"] if e["type"] == "client.terminated"]
    assert [e["data"]["id"] for e in terminated] == [first, second]
    after = http.get(f"/api/v1/events?after={terminated[0]['id']}", headers=reader).get_json()
    assert [e["id"] for e in after["items"]] == [terminated[1]["id"]]
    assert after["next_after"] == terminated[1]["id"]
    # A test event goes to its endpoint only; pollers never see it.
    admin_page = login_as(hooks_app, Role.ADMIN)
    detail = admin_page.get(f"/admin/webhooks/{endpoint['id']}")
    admin_page.post(
        f"/admin/webhooks/{endpoint['id']}/test",
        data={"csrf_token": csrf_from(detail.get_data(as_text=True))},
    )
    assert len(receiver.received) == 3
    polled = http.get(f"/api/v1/events?after={terminated[1]['id']}", headers=reader).get_json()
    assert polled["items"] == []
    unknown = http.get("/api/v1/events?after=evt_" + "0" * 24, headers=reader)
    assert unknown.status_code == 404

    delivery_id = log.get_json()["items"][0]["id"]
    again = http.post(f"/api/v1/webhook-deliveries/{delivery_id}/redelivery", headers=admin)
    assert again.status_code == 202 and len(receiver.received) == 4
    rotated = http.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/secret-rotation", headers=admin
    ).get_json()
    assert rotated["secret"] != endpoint["secret"] and rotated["previous_secret_valid_until"]

    tested = http.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test", headers=admin)
    assert tested.status_code == 202 and tested.get_json()["status"] == "delivered"
    assert verified(rotated["secret"], receiver.received[-1])["type"] == "webhook.test"
    since = (utcnow() - timedelta(days=1)).date().isoformat()
    resent = http.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/redelivery",
        json={"since": since},
        headers=admin,
    )
    assert resent.status_code == 202 and resent.get_json() == {"redelivered": 2}
    assert len(receiver.received) == 7
    bad_date = http.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/redelivery",
        json={"since": "2026-02-30"},
        headers=admin,
    )
    assert bad_date.status_code == 422


def test_redelivery_since_a_date_covers_events_before_the_endpoint(
    hooks_app: Flask, receiver: Receiver
) -> None:
    terminate_client(hooks_app)  # no endpoint yet: nobody gets it
    endpoint = add_endpoint(hooks_app, receiver.url)
    admin = login_as(hooks_app, Role.ADMIN)
    page = admin.get(f"/admin/webhooks/{endpoint.id}")
    since = (utcnow() - timedelta(days=1)).date().isoformat()
    done = admin.post(
        f"/admin/webhooks/{endpoint.id}/renvoi",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "since": since},
    )
    assert done.status_code == 302
    assert len(receiver.received) == 1
    assert verified(endpoint.secret, receiver.received[0])["type"] == "client.terminated"


def test_the_sweep_dispatches_events_whose_dispatch_was_lost(
    hooks_app: Flask, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_endpoint(hooks_app, receiver.url)

    # The broker was unreachable after the commit: the change stands, nothing was sent.
    def broker_down() -> None:
        raise ConnectionError("courtier injoignable")

    monkeypatch.setattr(tasks.dispatch, "enqueue", broker_down)
    terminate_client(hooks_app)
    assert receiver.received == []
    monkeypatch.undo()
    tasks.sweep.run()
    assert len(receiver.received) == 1
