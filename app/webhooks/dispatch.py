"""From the outbox to the deliveries: each event not yet dispatched gets one delivery row per
enabled endpoint that subscribes to its type, then is marked dispatched, in one transaction.

Two dispatchers at once (the job after a commit and the periodic sweep): on PostgreSQL the
events are taken with SKIP LOCKED, so each event is fanned out by one of them; on SQLite
writers are serialised. The unique (event, endpoint) key holds it in any case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.events.catalogue import TEST_EVENT
from app.events.models import Event
from app.webhooks.deliveries import new_delivery
from app.webhooks.models import WebhookEndpoint

BATCH = 200


def fan_out(session: Session, *, now: datetime) -> tuple[int, list[int]]:
    """Dispatch up to BATCH events; returns how many, and the ids of the deliveries created."""
    events = session.scalars(
        select(Event)
        .where(Event.dispatched_at.is_(None))
        .order_by(Event.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    if not events:
        return 0, []
    endpoints = session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True))
    ).all()
    created: list[int] = []
    for event in events:
        event.dispatched_at = now
        if event.type == TEST_EVENT:
            continue  # a test event is delivered to its one endpoint, by `send_test`
        for endpoint in endpoints:
            if event.type in endpoint.event_types:
                created.append(new_delivery(session, event, endpoint, now=now).id)
    return len(events), created
