"""Webhook endpoints and deliveries, through the services (no HTTP, no delivery attempted)."""

from __future__ import annotations

from flask import Flask

from app.db import transaction, utcnow
from app.events.recording import Resource, record
from app.webhooks import deliveries, endpoints
from app.webhooks.endpoints import EndpointInput
from tests.factories.db import runtime

UNREACHABLE = "http://10.0.0.1/hooks"
"""A private address: refused before any connection unless PARAPHE_WEBHOOKS_ALLOW_PRIVATE."""


def make_webhook_delivery(app: Flask, url: str = UNREACHABLE) -> tuple[int, int]:
    """An endpoint subscribed to quote.created and a pending delivery of one such event (its
    job not run yet); returns (endpoint id, delivery id)."""
    with transaction(runtime(app).session_factory) as session:
        now = utcnow()
        endpoint = endpoints.create(
            session,
            EndpointInput(url=url, event_types=["quote.created"], description="Test"),
            require_https=False,
            now=now,
            actor="test",
        )
        event = record(session, "quote.created", Resource("quote", 1), {"number": "X"}, now=now)
        event.dispatched_at = now  # fanned out here, by hand
        delivery = deliveries.new_delivery(session, event, endpoint, now=now)
        return endpoint.id, delivery.id
