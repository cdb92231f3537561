"""One POST per attempt, whatever the timing: 20 runs of the same delivery job at the same
instant, from 20 threads on their own connections, reach the receiver once. With
DATABASE_URL=postgresql… the claims really overlap (the delivery row's lock decides);
SQLite serialises them (BEGIN IMMEDIATE), where the answer must be the same."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.config import Settings
from app.db import transaction, utcnow
from app.events.models import Event
from app.events.recording import Resource, record
from app.mail.models import OutgoingMailRecord
from app.webhooks import deliveries, endpoints, rules, tasks
from app.webhooks.endpoints import EndpointInput
from app.webhooks.errors import EndpointNotFound
from app.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from tests.factories import make_fast_user, runtime, session_of
from tests.factories.webhooks import create_endpoint
from tests.integration.webhook_receiver import running_receiver
from tests.together import PARALLEL, run_together

T = TypeVar("T")


@pytest.mark.committed_db  # threads on their own connections
def test_twenty_runs_of_one_delivery_post_once(
    settings: Settings, make_app: Callable[[Settings], Flask]
) -> None:
    app = make_app(replace(settings, webhooks_allow_private=True))
    # A slow receiver: every run starts while the first POST is still under way.
    with running_receiver(delay_s=0.5) as receiver:
        rt = runtime(app)
        with transaction(rt.session_factory) as session:
            endpoint = create_endpoint(session, receiver.url, ["quote.created"])
            # A delivery whose job is about to run (the dispatch's, the sweep's, a retry).
            event = record(
                session, "quote.created", Resource("quote", 1), {"number": "DEV-1"}, now=utcnow()
            )
            event.dispatched_at = utcnow()
            delivery_id = deliveries.new_delivery(session, event, endpoint, now=utcnow()).id
        _at_once(app, lambda _n: tasks.deliver.run(delivery_id))
        assert len(receiver.received) == 1
    with session_of(app) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        assert delivery is not None and delivery.status is DeliveryStatus.DELIVERED
        assert len(session.scalars(select(WebhookAttempt)).all()) == 1
        assert session.scalars(select(Event)).one().public_id.startswith("evt_")


def _at_once(app: Flask, work: Callable[[int], T]) -> list[T]:
    """`work(n)` from PARALLEL threads released together, each in an application context."""

    def in_context(n: int) -> T:
        with app.app_context():
            return work(n)

    return run_together(PARALLEL, in_context)


@pytest.mark.committed_db
def test_twenty_deletions_of_one_endpoint_delete_it_once(
    settings: Settings, make_app: Callable[[Settings], Flask]
) -> None:
    app = make_app(settings)
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        endpoint_id = endpoints.create(
            session,
            EndpointInput(url="https://crm.example.fr/hooks", event_types=["quote.created"]),
            require_https=True,
            now=utcnow(),
            actor="test",
        ).id

    def delete(_n: int) -> EndpointNotFound | None:
        """None when this thread deleted it; the refusal when another had (any other error
        fails the test)."""
        try:
            with transaction(rt.session_factory) as session:
                endpoints.delete(session, endpoint_id, now=utcnow(), actor="test")
        except EndpointNotFound as refused:
            return refused
        return None

    refusals = [answer for answer in _at_once(app, delete) if answer is not None]
    assert len(refusals) == PARALLEL - 1
    with session_of(app) as session:
        deleted = select(AuditEvent).where(AuditEvent.action == "webhook.endpoint_deleted")
        assert len(session.scalars(deleted).all()) == 1


@pytest.mark.committed_db
def test_twenty_deliveries_failing_for_good_at_once_mail_the_admin_once(
    settings: Settings, make_app: Callable[[Settings], Flask]
) -> None:
    app = make_app(replace(settings, webhooks_allow_private=True))
    make_fast_user(app, Role.ADMIN)
    rt = runtime(app)
    with running_receiver(statuses=[500] * PARALLEL) as receiver:
        ids = []
        with transaction(rt.session_factory) as session:
            endpoint = create_endpoint(session, receiver.url, ["quote.created"])
            for n in range(PARALLEL):
                event = record(
                    session, "quote.created", Resource("quote", n), {"n": n}, now=utcnow()
                )
                event.dispatched_at = utcnow()
                delivery = deliveries.new_delivery(session, event, endpoint, now=utcnow())
                # Its last attempt is due: this one failing ends the schedule.
                delivery.failures = len(rules.RETRY_SCHEDULE)
                ids.append(delivery.id)
        _at_once(app, lambda n: tasks.deliver.run(ids[n]))
        assert len(receiver.received) == PARALLEL
    with session_of(app) as session:
        failed = select(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.FAILED)
        assert len(session.scalars(failed).unique().all()) == PARALLEL
        mails = select(OutgoingMailRecord).where(
            OutgoingMailRecord.subject.startswith("Webhook en échec")
        )
        assert len(session.scalars(mails).all()) == 1
