"""A batch of one endpoint's deliveries claimed, then recorded, with a few Core statements
(issue 15): the per-row ORM work (load a delivery, its event and endpoint, flush an attempt,
re-load them to record the answer) cost most of the ~6 ms of CPU a delivery took, and 600
deliveries per second need far less.

Same rules as `deliveries.claim` and `deliveries.finish`, batch for batch: the rows are taken
under their lock (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so two threads or processes never claim
the same delivery; SQLite: the transaction is `BEGIN IMMEDIATE`, writers one at a time), only
pending and due ones, each gets its next attempt row and a lease, an attempt left "sending" by
a dead worker is marked failed. Accepted answers are recorded in bulk; any other result (rare:
a retry to schedule, a failure for good and its alert) goes through `deliveries.finish`, row by
row, as before."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.events.models import Event
from app.webhooks import deliveries, rules
from app.webhooks.endpoints import signing_secrets
from app.webhooks.models import (
    AttemptOutcome,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.webhooks.sending import SendResult


def claim(
    session: Session, endpoint_id: int, *, now: datetime, limit: int
) -> list[deliveries.Claim]:
    """The next attempt of each of the endpoint's oldest due deliveries (up to `limit`) that
    no other transaction holds; empty when none is due (or the endpoint is disabled: its due
    deliveries fail, as `deliveries.claim` does)."""
    rows = session.execute(
        select(
            WebhookDelivery.id,
            WebhookDelivery.attempts,
            Event.public_id,
            Event.type,
            Event.created_at,
            Event.payload,
        )
        .join(Event, Event.id == WebhookDelivery.event_id)
        .where(
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
        )
        .order_by(WebhookDelivery.id)
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    ).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    # An attempt left "sending" past its lease belonged to a worker that died: it failed.
    session.execute(
        update(WebhookAttempt)
        .where(
            WebhookAttempt.delivery_id.in_(ids),
            WebhookAttempt.outcome == AttemptOutcome.SENDING,
        )
        .values(outcome=AttemptOutcome.FAILED, error="interrompue (processus arrêté)")
        .execution_options(synchronize_session=False)
    )
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not endpoint.enabled:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids))
            .values(status=DeliveryStatus.FAILED, next_attempt_at=None)
            .execution_options(synchronize_session=False)
        )
        return []
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids))
        .values(attempts=WebhookDelivery.attempts + 1, next_attempt_at=now + rules.ATTEMPT_LEASE)
        .execution_options(synchronize_session=False)
    )
    attempt_ids = session.scalars(
        insert(WebhookAttempt).returning(WebhookAttempt.id, sort_by_parameter_order=True),
        [
            {
                "delivery_id": row.id,
                "number": row.attempts + 1,
                "outcome": AttemptOutcome.SENDING,
                "started_at": now,
            }
            for row in rows
        ],
    ).all()
    secrets = signing_secrets(endpoint, now)
    return [
        deliveries.Claim.sending(row, endpoint, secrets, delivery_id=row.id, attempt_id=attempt_id)
        for row, attempt_id in zip(rows, attempt_ids, strict=True)
    ]


def record(
    session: Session,
    results: list[tuple[deliveries.Claim, SendResult]],
    *,
    now: datetime,
    base_url: str,
    retry_scale: float,
) -> list[tuple[int, timedelta | None]]:
    """The attempts' results: each delivery and its wait before the next attempt (None:
    over). Accepted ones in three statements whatever their number; the others one by one."""
    accepted = [(c, r) for c, r in results if r.outcome is AttemptOutcome.SUCCEEDED]
    if accepted:
        session.execute(
            update(WebhookAttempt),
            [
                {
                    "id": c.attempt_id,
                    "outcome": r.outcome,
                    "finished_at": now,
                    "status_code": r.status_code,
                    "latency_ms": r.latency_ms,
                    "response_excerpt": r.excerpt,
                    "error": r.error,
                }
                for c, r in accepted
            ],
        )
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_([c.delivery_id for c, _ in accepted]))
            .values(status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None)
            .execution_options(synchronize_session=False)
        )
        # Only when it was failing: an UPDATE of the endpoint's row on every batch would make
        # the endpoint's threads (and processes) queue on its lock.
        session.execute(
            update(WebhookEndpoint)
            .where(
                WebhookEndpoint.id.in_({c.endpoint_id for c, _ in accepted}),
                WebhookEndpoint.failing_since.is_not(None),
            )
            .values(failing_since=None)
            .execution_options(synchronize_session=False)
        )
    waits: dict[int, timedelta | None] = {c.delivery_id: None for c, _ in accepted}
    for c, r in results:
        if r.outcome is not AttemptOutcome.SUCCEEDED:
            waits[c.delivery_id] = deliveries.finish(
                session, c, r, now=now, base_url=base_url, retry_scale=retry_scale
            )
    return [(c.delivery_id, waits[c.delivery_id]) for c, _ in results]
