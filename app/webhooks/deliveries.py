"""The delivery rows: claiming an attempt under the row's lock, recording its result and the
next one, redelivery, the log. Single-transaction services.

At most one POST per attempt row: `claim` locks the delivery, re-checks that it is pending and
due, writes the attempt row and moves `next_attempt_at` to the end of the attempt's lease, all
in one transaction. Twenty jobs for the same delivery at once: the first commits its claim,
the others then read a delivery that is not due and do nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.orm import Session

from app.events.models import Event
from app.messages import msg
from app.webhooks import alerts, rules
from app.webhooks.endpoints import lock, signing_secrets
from app.webhooks.errors import DeliveryNotFound
from app.webhooks.models import (
    AttemptOutcome,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.webhooks.sending import SendResult


@dataclass(frozen=True)
class Claim:
    """What one attempt sends, read under the lock, used after the commit."""

    delivery_id: int
    attempt_id: int
    url: str
    message_id: str
    event_type: str
    event_created_at: datetime
    payload: dict[str, object]
    secrets: list[str]
    endpoint_id: int

    @classmethod
    def sending(
        cls,
        event: Event | Row[Any],
        endpoint: WebhookEndpoint,
        secrets: list[str],
        *,
        delivery_id: int,
        attempt_id: int,
    ) -> Claim:
        """The attempt `attempt_id` of the delivery `delivery_id`: `event` to `endpoint`. The
        event is the row itself, or the columns of it a batch selects (same names)."""
        return cls(
            delivery_id=delivery_id,
            attempt_id=attempt_id,
            url=endpoint.url,
            message_id=event.public_id,
            event_type=event.type,
            event_created_at=event.created_at,
            payload=dict(event.payload),
            secrets=secrets,
            endpoint_id=endpoint.id,
        )


def claim(session: Session, delivery_id: int, *, now: datetime) -> Claim | None:
    """Take the next attempt of a due delivery, or None when there is nothing to do (already
    delivered or failed, not due yet, or another worker's attempt still under way)."""
    delivery = session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .with_for_update(of=WebhookDelivery)
    )
    if delivery is None or delivery.status is not DeliveryStatus.PENDING:
        return None
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
        return None
    # An attempt left "sending" past its lease belonged to a worker that died: it failed.
    session.execute(
        update(WebhookAttempt)
        .where(
            WebhookAttempt.delivery_id == delivery.id,
            WebhookAttempt.outcome == AttemptOutcome.SENDING,
        )
        .values(outcome=AttemptOutcome.FAILED, error="interrompue (processus arrêté)")
    )
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        return None
    delivery.attempts += 1
    delivery.next_attempt_at = now + rules.ATTEMPT_LEASE
    attempt = WebhookAttempt(
        delivery_id=delivery.id,
        number=delivery.attempts,
        outcome=AttemptOutcome.SENDING,
        started_at=now,
    )
    session.add(attempt)
    session.flush()
    return Claim.sending(
        delivery.event,
        endpoint,
        signing_secrets(endpoint, now),
        delivery_id=delivery.id,
        attempt_id=attempt.id,
    )


def finish(
    session: Session,
    claim: Claim,
    result: SendResult,
    *,
    now: datetime,
    base_url: str,
    retry_scale: float = 1.0,
) -> timedelta | None:
    """Record the attempt's result; returns the wait before the next attempt, None when the
    delivery is over (delivered, or failed for good and its endpoint marked failing, the
    admins told by mail once per failing period: `alerts`)."""
    delivery = session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == claim.delivery_id)
        .with_for_update(of=WebhookDelivery)
    )
    attempt = session.get(WebhookAttempt, claim.attempt_id)
    if delivery is None or attempt is None:
        return None
    attempt.outcome = result.outcome
    attempt.finished_at = now
    attempt.status_code = result.status_code
    attempt.latency_ms = result.latency_ms
    attempt.response_excerpt = result.excerpt
    attempt.error = result.error
    endpoint = delivery.endpoint
    if result.outcome is AttemptOutcome.SUCCEEDED:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        endpoint.failing_since = None
        return None
    delivery.failures += 1
    delay = rules.next_delay(delivery.failures, retry_scale)
    if delay is None:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        # Under the endpoint's row lock: two deliveries failing for good at once start one
        # failing period, and one mail.
        endpoint = lock(session, endpoint.id, refresh=True)
        if endpoint.failing_since is None:
            endpoint.failing_since = now
            alerts.tell_admins(session, endpoint, base_url=base_url, now=now)
        return None
    delivery.next_attempt_at = now + delay
    return delay


def redeliver(session: Session, delivery_id: int, *, now: datetime) -> WebhookDelivery:
    """Send a delivery again from the start of the schedule (after a fix on the receiver)."""
    delivery = session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .with_for_update(of=WebhookDelivery)
    )
    if delivery is None:
        raise DeliveryNotFound(msg("Aucune livraison n° {delivery_id}.", delivery_id=delivery_id))
    _reschedule(delivery, now)
    return delivery


def redeliver_since(
    session: Session, endpoint: WebhookEndpoint, since: datetime, *, now: datetime
) -> list[int]:
    """Every event the endpoint subscribes to since `since`, delivered again (a delivery row
    is created for an event recorded before the endpoint subscribed)."""
    events = session.scalars(
        select(Event)
        .where(Event.created_at >= since, Event.type.in_(endpoint.event_types))
        .order_by(Event.id)
    ).all()
    existing = {
        d.event_id: d
        for d in session.scalars(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.endpoint_id == endpoint.id,
                WebhookDelivery.event_id.in_([e.id for e in events]),
            )
            .with_for_update(of=WebhookDelivery)
        ).unique()
    }
    ids = []
    for event in events:
        delivery = existing.get(event.id)
        if delivery is None:
            delivery = new_delivery(session, event, endpoint, now=now)
        else:
            _reschedule(delivery, now)
        ids.append(delivery.id)
    return ids


def new_delivery(
    session: Session, event: Event, endpoint: WebhookEndpoint, *, now: datetime
) -> WebhookDelivery:
    delivery = WebhookDelivery(
        event_id=event.id,
        endpoint_id=endpoint.id,
        status=DeliveryStatus.PENDING,
        attempts=0,
        failures=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery


def _reschedule(delivery: WebhookDelivery, now: datetime) -> None:
    delivery.status = DeliveryStatus.PENDING
    delivery.failures = 0
    delivery.delivered_at = None
    delivery.next_attempt_at = now


def due(session: Session, now: datetime, *, limit: int = 500) -> list[int]:
    """Pending deliveries whose attempt is due: their job was lost (a broker flushed, a
    worker killed past its lease). The sweep enqueues them again."""
    return list(
        session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
    )


def endpoints_of(session: Session, delivery_ids: Sequence[int]) -> dict[int, int]:
    """The deliveries' endpoints, and how many of them each has."""
    return {
        endpoint_id: count
        for endpoint_id, count in session.execute(
            select(WebhookDelivery.endpoint_id, func.count())
            .where(WebhookDelivery.id.in_(delivery_ids))
            .group_by(WebhookDelivery.endpoint_id)
        ).tuples()
    }


def endpoint_of(session: Session, delivery_id: int) -> int | None:
    return session.scalar(
        select(WebhookDelivery.endpoint_id).where(WebhookDelivery.id == delivery_id)
    )


def log_of(session: Session, endpoint_id: int, *, limit: int = 50) -> Sequence[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first, for its page."""
    return (
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
        .unique()
        .all()
    )


def attempts_of(session: Session, delivery_ids: Sequence[int]) -> dict[int, list[WebhookAttempt]]:
    by_delivery: dict[int, list[WebhookAttempt]] = {i: [] for i in delivery_ids}
    for attempt in session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(delivery_ids))
        .order_by(WebhookAttempt.delivery_id, WebhookAttempt.number)
    ):
        by_delivery[attempt.delivery_id].append(attempt)
    return by_delivery


def get(session: Session, delivery_id: int) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, delivery_id, populate_existing=True)
    if delivery is None:
        raise DeliveryNotFound(msg("Aucune livraison n° {delivery_id}.", delivery_id=delivery_id))
    return delivery
