"""Webhook endpoints and deliveries, through the services (no HTTP, no delivery attempted)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clients.services import get_client, terminate
from app.db import transaction, utcnow
from app.events.recording import Resource, record
from app.webhooks import deliveries, endpoints
from app.webhooks.endpoints import EndpointInput
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.factories.db import runtime, session_of
from tests.factories.sales import make_client

UNREACHABLE = "http://10.0.0.1/hooks"
"""A private address: refused before any connection unless PARAPHE_WEBHOOKS_ALLOW_PRIVATE."""


def create_endpoint(
    session: Session, url: str, types: Sequence[str], description: str = ""
) -> WebhookEndpoint:
    """An endpoint as an admin creates it, http allowed (the test receivers run on loopback)."""
    return endpoints.create(
        session,
        EndpointInput(url=url, event_types=list(types), description=description),
        require_https=False,
        now=utcnow(),
        actor="test",
    )


def add_endpoint(
    app: Flask, url: str, types: Sequence[str] = ("client.terminated",)
) -> WebhookEndpoint:
    """A committed endpoint, detached: its id and secret stay readable."""
    with transaction(runtime(app).session_factory) as session:
        endpoint = create_endpoint(session, url, types, description="CRM")
        session.flush()
        session.expunge(endpoint)
        return endpoint


def terminate_client(app: Flask, client_id: int | None = None, reason: str = "") -> int:
    """A change that records `client.terminated` (a new client's unless one is given); its
    commit enqueues the dispatch (run at once with inline jobs)."""
    client_id = client_id or make_client(app)
    with transaction(runtime(app).session_factory) as session:
        terminate(
            session,
            get_client(session, client_id),
            on=date(2026, 6, 30),
            reason=reason,
            actor="test",
            now=utcnow(),
        )
    return client_id


def make_webhook_delivery(app: Flask, url: str = UNREACHABLE) -> tuple[int, int]:
    """An endpoint subscribed to quote.created and a pending delivery of one such event (its
    job not run yet); returns (endpoint id, delivery id)."""
    with transaction(runtime(app).session_factory) as session:
        now = utcnow()
        endpoint = create_endpoint(session, url, ["quote.created"], description="Test")
        event = record(session, "quote.created", Resource("quote", 1), {"number": "X"}, now=now)
        event.dispatched_at = now  # fanned out here, by hand
        delivery = deliveries.new_delivery(session, event, endpoint, now=now)
        return endpoint.id, delivery.id


def only_delivery(app: Flask) -> WebhookDelivery:
    """The one delivery recorded (detached: read its columns)."""
    with session_of(app) as session:
        delivery = session.scalars(select(WebhookDelivery)).unique().one()
        session.expunge_all()
        return delivery


def attempts(app: Flask) -> list[WebhookAttempt]:
    """Every delivery attempt recorded, in order (detached: read their columns)."""
    with session_of(app) as session:
        found = list(session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.number)))
        session.expunge_all()
        return found
