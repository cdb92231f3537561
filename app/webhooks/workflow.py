"""The webhooks' use cases over several transactions: dispatch the outbox, deliver one
delivery (claim, POST with no transaction open, record), send a test event. Each takes the
process's collaborators, opens its own short transactions and can run twice without a second
effect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from standardwebhooks import Webhook

from app.db import transaction, utcnow
from app.events.catalogue import TEST_EVENT
from app.events.recording import Resource, record
from app.runtime import Collaborators
from app.webhooks import batch, deliveries, dispatch, rules, sending
from app.webhooks.endpoints import lock


def fan_out(collab: Collaborators) -> list[int]:
    """Dispatch every event not yet dispatched; returns the new deliveries' ids."""
    created: list[int] = []
    while True:
        with transaction(collab.session_factory) as session:
            count, ids = dispatch.fan_out(session, now=collab.now)
        created.extend(ids)
        if count < dispatch.BATCH:
            return created


def deliver(collab: Collaborators, delivery_id: int) -> timedelta | None:
    """One attempt of a delivery if it is due; returns the wait before the next one (the
    caller schedules it), None when there is nothing more to do."""
    with transaction(collab.session_factory) as session:
        claim = deliveries.claim(session, delivery_id, now=collab.now)
    if claim is None:
        return None
    [(_, delay)] = _record(collab, [(claim, _post(collab, claim))])
    return delay


@dataclass(frozen=True)
class Attempted:
    """One attempt made by `deliver_batch`, and the wait before the delivery's next one."""

    delivery_id: int
    retry_in: timedelta | None


BATCH = 10
"""Deliveries of one endpoint claimed together, sent one after the other by one thread, and
recorded together: two commits per ten deliveries instead of two per delivery (a commit is
an fsync, the cost that bounds the throughput). Ten 10 s timeouts stay within the 2 min lease
of the claims."""


def deliver_batch(collab: Collaborators, endpoint_id: int) -> list[Attempted]:
    """An attempt of each of the endpoint's oldest due deliveries (up to BATCH) that no other
    thread or process is claiming; empty when none is due."""
    with transaction(collab.session_factory) as session:
        claims = batch.claim(session, endpoint_id, now=collab.now, limit=BATCH)
    if not claims:
        return []
    done = _record(collab, [(claim, _post(collab, claim)) for claim in claims])
    return [Attempted(delivery_id, delay) for delivery_id, delay in done]


def endpoint_of(collab: Collaborators, delivery_id: int) -> int | None:
    with transaction(collab.session_factory) as session:
        return deliveries.endpoint_of(session, delivery_id)


def endpoints_of(collab: Collaborators, delivery_ids: list[int]) -> dict[int, int]:
    """The deliveries' endpoints, and how many of them each has."""
    with transaction(collab.session_factory) as session:
        return deliveries.endpoints_of(session, delivery_ids)


def _post(collab: Collaborators, claim: deliveries.Claim) -> sending.SendResult:
    """The POST, with no transaction open."""
    body = rules.body(
        claim.event_type,
        claim.event_created_at.isoformat(),
        claim.payload,
        collab.settings.base_url,
    )
    headers = signed_headers(claim.message_id, body, claim.secrets, collab)
    return sending.post(
        claim.url,
        body,
        headers,
        allow_private=collab.settings.webhooks_allow_private,
        require_https=collab.settings.base_url.startswith("https://"),
    )


def _record(
    collab: Collaborators, results: list[tuple[deliveries.Claim, sending.SendResult]]
) -> list[tuple[int, timedelta | None]]:
    """The attempts' results, in one transaction: each delivery and its wait before the next
    attempt (None: over)."""
    now = utcnow()  # after the POSTs: a batch to a slow receiver takes seconds
    with transaction(collab.session_factory) as session:
        return batch.record(
            session,
            results,
            now=now,
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
