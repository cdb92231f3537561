"""Endpoints: created with a secret shown once, edited, disabled, rotated. Single-transaction
services: the caller commits and passes `now`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import services as audit
from app.events.catalogue import EVENT_TYPES
from app.messages import msg
from app.plaintext import text_problem
from app.webhooks import rules
from app.webhooks.errors import EndpointInvalid, EndpointNotFound
from app.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint


@dataclass(frozen=True)
class EndpointInput:
    url: str
    event_types: Sequence[str]
    description: str = ""
    enabled: bool = True


def check(data: EndpointInput, *, require_https: bool) -> None:
    problems: dict[str, str] = {}
    if problem := rules.url_problem(data.url.strip(), require_https=require_https):
        problems["url"] = problem
    unknown = sorted(set(data.event_types) - set(EVENT_TYPES))
    if unknown:
        problems["event_types"] = msg(
            "Type d'événement inconnu : {unknown}", unknown=", ".join(unknown)
        )
    elif not data.event_types:
        problems["event_types"] = msg("Choisissez au moins un type d'événement.")
    if len(data.description) > 200:
        problems["description"] = msg("200 caractères au plus.")
    elif problem := text_problem(data.description):
        problems["description"] = problem
    if problems:
        raise EndpointInvalid(problems)


def create(
    session: Session, data: EndpointInput, *, require_https: bool, now: datetime, actor: str
) -> WebhookEndpoint:
    """A new endpoint and its secret (readable on the returned row: show it once)."""
    check(data, require_https=require_https)
    endpoint = WebhookEndpoint(
        url=data.url.strip(),
        description=data.description.strip(),
        event_types=sorted(set(data.event_types)),
        enabled=data.enabled,
        secret=rules.new_secret(),
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    session.flush()
    _journal(session, endpoint, "webhook.endpoint_created", now=now, actor=actor)
    return endpoint


def update(
    session: Session,
    endpoint_id: int,
    data: EndpointInput,
    *,
    require_https: bool,
    now: datetime,
    actor: str,
) -> WebhookEndpoint:
    check(data, require_https=require_https)
    endpoint = lock(session, endpoint_id)
    endpoint.url = data.url.strip()
    endpoint.description = data.description.strip()
    endpoint.event_types = sorted(set(data.event_types))
    if endpoint.enabled and not data.enabled:
        _stop_pending(session, endpoint)
    endpoint.enabled = data.enabled
    endpoint.updated_at = now
    _journal(session, endpoint, "webhook.endpoint_updated", now=now, actor=actor)
    return endpoint


def rotate(session: Session, endpoint_id: int, *, now: datetime, actor: str) -> WebhookEndpoint:
    """A new secret; the previous one keeps signing beside it for `rules.SECRET_GRACE`, so
    the receiver can switch without losing a delivery."""
    endpoint = lock(session, endpoint_id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = now + rules.SECRET_GRACE
    endpoint.secret = rules.new_secret()
    endpoint.updated_at = now
    _journal(session, endpoint, "webhook.secret_rotated", now=now, actor=actor)
    return endpoint


@dataclass(frozen=True)
class Deletion:
    """What deleting an endpoint removed: its deliveries by status (the pending ones are the
    cancelled ones: they will never be sent)."""

    endpoint_id: int
    url: str
    deliveries: dict[str, int]

    @property
    def cancelled(self) -> int:
        return self.deliveries.get(DeliveryStatus.PENDING.value, 0)


def delete(session: Session, endpoint_id: int, *, now: datetime, actor: str) -> Deletion:
    """Delete an endpoint with its delivery log (deliveries and attempts): the log describes
    traffic to a receiver that no longer exists, and its response excerpts came from it. The
    pending deliveries are cancelled with it (a job that finds its delivery gone does
    nothing; an attempt under way records nothing). The events stay in the outbox (polling,
    other endpoints). The journal keeps the endpoint's address and the counts removed."""
    endpoint = lock(session, endpoint_id)
    counts = {
        str(status.value): count
        for status, count in session.execute(
            select(WebhookDelivery.status, func.count())
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .group_by(WebhookDelivery.status)
        ).tuples()
    }
    delivery_ids = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id)
    session.execute(sql_delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(delivery_ids)))
    session.execute(sql_delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    deletion = Deletion(endpoint.id, endpoint.url, counts)
    audit.record(
        session,
        now=now,
        actor=actor,
        action="webhook.endpoint_deleted",
        subject_type="webhook_endpoint",
        subject_id=endpoint.id,
        details={
            "url": endpoint.url,
            "events": endpoint.event_types,
            "deliveries_removed": counts,
            "pending_cancelled": deletion.cancelled,
        },
    )
    session.delete(endpoint)
    session.flush()
    return deletion


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and the previous one
    during its grace period (Standard Webhooks allows several signatures)."""
    secrets = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_until is not None
        and now < endpoint.previous_secret_until
    ):
        secrets.append(endpoint.previous_secret)
    return secrets


def get(session: Session, endpoint_id: int) -> WebhookEndpoint:
    return _found(session.get(WebhookEndpoint, endpoint_id), endpoint_id)


def lock(session: Session, endpoint_id: int, *, refresh: bool = False) -> WebhookEndpoint:
    """The endpoint under its row lock; `refresh`: re-read even if the session holds it (read
    before the lock, it may be stale)."""
    endpoint = session.scalar(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .with_for_update()
        .execution_options(populate_existing=refresh)
    )
    return _found(endpoint, endpoint_id)


def _found(endpoint: WebhookEndpoint | None, endpoint_id: int) -> WebhookEndpoint:
    """The endpoint read, or the one refusal (and its French message) when there is none."""
    if endpoint is None:
        raise EndpointNotFound(
            msg("Aucun point de réception n° {endpoint_id}.", endpoint_id=endpoint_id)
        )
    return endpoint


def all_endpoints(session: Session) -> Sequence[WebhookEndpoint]:
    return session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()


def _stop_pending(session: Session, endpoint: WebhookEndpoint) -> None:
    """A disabled endpoint gets nothing more: its waiting deliveries end as failed (an admin
    can redeliver them once it is enabled again)."""
    for delivery in session.scalars(
        select(WebhookDelivery).where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
    ):
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None


def _journal(
    session: Session, endpoint: WebhookEndpoint, action: str, *, now: datetime, actor: str
) -> None:
    audit.record(
        session,
        now=now,
        actor=actor,
        action=action,
        subject_type="webhook_endpoint",
        subject_id=endpoint.id,
        details={"url": endpoint.url, "events": endpoint.event_types, "enabled": endpoint.enabled},
    )
