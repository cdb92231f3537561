"""The webhooks' use cases over several transactions: dispatch the outbox, deliver one
delivery (claim, POST with no transaction open, record), send a test event. Each takes the
process's collaborators, opens its own short transactions and can run twice without a second
effect."""

from __future__ import annotations

from datetime import timedelta

from standardwebhooks import Webhook

from app.db import transaction
from app.events.catalogue import TEST_EVENT
from app.events.recording import Resource, record
from app.runtime import Collaborators
from app.webhooks import deliveries, dispatch, rules, sending
from app.webhooks.endpoints import lock


def fan_out(collab: Collaborators) -> list[int]:
    """Dispatch every event not yet dispatched; returns the new deliveries' ids."""
    created: list[int] = []
    while True:
        with transaction(collab.session_factory) as session:
            count, batch = dispatch.fan_out(session, now=collab.now)
        created.extend(batch)
        if count < dispatch.BATCH:
            return created


def deliver(collab: Collaborators, delivery_id: int) -> timedelta | None:
    """One attempt of a delivery if it is due; returns the wait before the next one (the
    caller schedules it), None when there is nothing more to do."""
    with transaction(collab.session_factory) as session:
        claim = deliveries.claim(session, delivery_id, now=collab.now)
    if claim is None:
        return None
    body = rules.body(
        claim.event_type,
        claim.event_created_at.isoformat(),
        claim.payload,
        collab.settings.base_url,
    )
    headers = signed_headers(claim.message_id, body, claim.secrets, collab)
    result = sending.post(
        claim.url,
        body,
        headers,
        allow_private=collab.settings.webhooks_allow_private,
        require_https=collab.settings.base_url.startswith("https://"),
    )
    with transaction(collab.session_factory) as session:
        return deliveries.finish(
            session,
            claim,
            result,
            now=collab.now,
            base_url=collab.settings.base_url,
            retry_scale=collab.settings.webhooks_retry_scale,
        )


def signed_headers(
    message_id: str, body: bytes, secrets: list[str], collab: Collaborators
) -> dict[str, str]:
    """The Standard Webhooks headers, one signature per valid secret (space-separated)."""
    timestamp = collab.now
    signatures = " ".join(Webhook(s).sign(message_id, timestamp, body) for s in secrets)
    return {
        "content-type": "application/json",
        "user-agent": "Paraphe-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
    }


def send_test(collab: Collaborators, endpoint_id: int, actor: str) -> int:
    """« Envoyer un événement de test »: a `webhook.test` event for this endpoint only;
    returns its delivery's id (delivered by the caller's job)."""
    with transaction(collab.session_factory) as session:
        endpoint = lock(session, endpoint_id)
        event = record(
            session,
            TEST_EVENT,
            Resource("webhook_endpoint", endpoint.id),
            {"message": "Événement de test envoyé depuis Paraphe", "requested_by": actor},
            now=collab.now,
        )
        event.dispatched_at = collab.now
        return deliveries.new_delivery(session, event, endpoint, now=collab.now).id
