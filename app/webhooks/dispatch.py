"""From the outbox to the deliveries: each event not yet dispatched gets one delivery row per
enabled endpoint that subscribes to its type, then is marked dispatched, in one transaction.

Two dispatchers at once (the job after a commit and the periodic sweep): on PostgreSQL the
events are taken with SKIP LOCKED, so each event is fanned out by one of them; on SQLite
writers are serialised. The unique (event, endpoint) key holds it in any case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.events.catalogue import TEST_EVENT
from app.events.models import Event
from app.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

BATCH = 200


def fan_out(session: Session, *, now: datetime) -> tuple[int, list[int]]:
    """Dispatch up to BATCH events; returns how many, and the ids of the deliveries created.
    Three statements whatever the number of events (issue 15: one ORM flush per delivery cost
    more CPU than the delivery's POST)."""
    events = session.execute(
        select(Event.id, Event.type)
        .where(Event.dispatched_at.is_(None))
        .order_by(Event.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    if not events:
        return 0, []
    endpoints = session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(
            WebhookEndpoint.enabled.is_(True)
        )
    ).all()
    session.execute(
        update(Event)
        .where(Event.id.in_([e.id for e in events]))
        .values(dispatched_at=now)
        .execution_options(synchronize_session=False)
    )
    rows = [
        {
            "event_id": event.id,
            "endpoint_id": endpoint.id,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "failures": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for event in events
        # A test event is delivered to its one endpoint, by `send_test`.
        if event.type != TEST_EVENT
        for endpoint in endpoints
        if event.type in endpoint.event_types
    ]
    if not rows:
        return len(events), []
    created = session.scalars(
        insert(WebhookDelivery).returning(WebhookDelivery.id, sort_by_parameter_order=True), rows
    ).all()
    return len(events), list(created)
