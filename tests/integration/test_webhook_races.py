"""One POST per attempt, whatever the timing: 20 runs of the same delivery job at the same
instant, from 20 threads on their own connections, reach the receiver once. With
DATABASE_URL=postgresql… the claims really overlap (the delivery row's lock decides);
SQLite serialises them (BEGIN IMMEDIATE), where the answer must be the same."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

import pytest
from flask import Flask
from sqlalchemy import select

from app.config import Settings
from app.db import transaction, utcnow
from app.events.models import Event
from app.events.recording import Resource, record
from app.webhooks import deliveries, endpoints, tasks
from app.webhooks.endpoints import EndpointInput
from app.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from tests.factories import runtime, session_of
from tests.integration.webhook_receiver import running_receiver

PARALLEL = 20


@pytest.mark.committed_db  # threads on their own connections
def test_twenty_runs_of_one_delivery_post_once(
    settings: Settings, make_app: Callable[[Settings], Flask]
) -> None:
    app = make_app(replace(settings, webhooks_allow_private=True))
    # A slow receiver: every run starts while the first POST is still under way.
    with running_receiver(delay_s=0.5) as receiver:
        rt = runtime(app)
        with transaction(rt.session_factory) as session:
            endpoint = endpoints.create(
                session,
                EndpointInput(url=receiver.url, event_types=["quote.created"]),
                require_https=False,
                now=utcnow(),
                actor="test",
            )
            # A delivery whose job is about to run (the dispatch's, the sweep's, a retry).
            event = record(
                session, "quote.created", Resource("quote", 1), {"number": "DEV-1"}, now=utcnow()
            )
            event.dispatched_at = utcnow()
            delivery_id = deliveries.new_delivery(session, event, endpoint, now=utcnow()).id
        barrier = threading.Barrier(PARALLEL)
        errors: list[BaseException] = []

        def run() -> None:
            try:
                with app.app_context():
                    barrier.wait(timeout=30)
                    tasks.deliver.run(delivery_id)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(PARALLEL)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert len(receiver.received) == 1
    with session_of(app) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        assert delivery is not None and delivery.status is DeliveryStatus.DELIVERED
        assert len(session.scalars(select(WebhookAttempt)).all()) == 1
        assert session.scalars(select(Event)).one().public_id.startswith("evt_")
