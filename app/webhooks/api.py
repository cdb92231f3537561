"""The webhooks through the API (/api/v1): endpoints and their deliveries (scope admin), and
the events for receivers that poll instead (scope read)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from app.auth.api_actor import token_actor
from app.auth.guards import require_scope
from app.auth.models import Scope
from app.db import utcnow
from app.errors import NotFound
from app.events import queries
from app.messages import msg
from app.webhooks import deliveries, endpoints, schemas, tasks, workflow
from app.wiring import db_session, hand_over, read_only_db_session, runtime, unit_of_work

bp = Blueprint("webhooks_api", __name__, url_prefix="/api/v1")


@bp.get("/events")
@require_scope(Scope.READ)
def list_events() -> dict[str, Any]:
    """Events in the order they were recorded, after the one named `after`."""
    after, limit = schemas.parse_after(request.args.to_dict())
    try:
        events = queries.events_after(read_only_db_session(), after, limit=limit)
    except queries.UnknownEvent as exc:
        raise NotFound(msg("Aucun événement {exc_args_0}.", exc_args_0=exc.args[0])) from exc
    base = runtime().settings.base_url
    return {
        "items": [schemas.event_json(e, base) for e in events],
        "next_after": events[-1].public_id if events else after,
    }


@bp.get("/webhook-endpoints")
@require_scope(Scope.ADMIN)
def list_endpoints() -> dict[str, Any]:
    return {"items": [schemas.endpoint_json(e) for e in endpoints.all_endpoints(db_session())]}


@bp.post("/webhook-endpoints")
@require_scope(Scope.ADMIN)
def create_endpoint() -> tuple[dict[str, Any], int]:
    data = schemas.parse_endpoint(request.get_json(silent=True))
    with unit_of_work() as db:
        endpoint = endpoints.create(
            db,
            data,
            require_https=runtime().settings.base_url.startswith("https://"),
            now=utcnow(),
            actor=token_actor(),
        )
    return schemas.endpoint_json(endpoint, with_secret=True), 201


@bp.get("/webhook-endpoints/<int:endpoint_id>")
@require_scope(Scope.ADMIN)
def get_endpoint(endpoint_id: int) -> dict[str, Any]:
    return schemas.endpoint_json(endpoints.get(db_session(), endpoint_id))


@bp.delete("/webhook-endpoints/<int:endpoint_id>")
@require_scope(Scope.ADMIN)
def delete_endpoint(endpoint_id: int) -> dict[str, Any]:
    """The endpoint, its delivery log and its pending deliveries (cancelled) removed."""
    with unit_of_work() as db:
        deleted = endpoints.delete(db, endpoint_id, now=utcnow(), actor=token_actor())
    return schemas.deletion_json(deleted)


@bp.post("/webhook-endpoints/<int:endpoint_id>/secret-rotation")
@require_scope(Scope.ADMIN)
def rotate_secret(endpoint_id: int) -> dict[str, Any]:
    with unit_of_work() as db:
        endpoint = endpoints.rotate(db, endpoint_id, now=utcnow(), actor=token_actor())
    return schemas.endpoint_json(endpoint, with_secret=True)


@bp.get("/webhook-endpoints/<int:endpoint_id>/deliveries")
@require_scope(Scope.ADMIN)
def endpoint_deliveries(endpoint_id: int) -> dict[str, Any]:
    db = db_session()
    endpoints.get(db, endpoint_id)
    log = deliveries.log_of(db, endpoint_id)
    attempts = deliveries.attempts_of(db, [d.id for d in log])
    return {"items": [schemas.delivery_json(d, attempts[d.id]) for d in log]}


@bp.post("/webhook-endpoints/<int:endpoint_id>/test")
@require_scope(Scope.ADMIN)
def send_test(endpoint_id: int) -> tuple[dict[str, Any], int]:
    """« Envoyer un événement de test »: a `webhook.test` event to this endpoint only."""
    delivery_id = workflow.send_test(hand_over(), endpoint_id, token_actor())
    tasks.deliver.enqueue(delivery_id)
    return _delivery(delivery_id), 202


@bp.post("/webhook-endpoints/<int:endpoint_id>/redelivery")
@require_scope(Scope.ADMIN)
def redeliver_since(endpoint_id: int) -> tuple[dict[str, Any], int]:
    """Every event the endpoint subscribes to, recorded since a date (Paris), sent again."""
    since = schemas.parse_since(request.get_json(silent=True))
    with unit_of_work() as db:
        ids = deliveries.redeliver_since(db, endpoints.get(db, endpoint_id), since, now=utcnow())
    for delivery_id in ids:
        tasks.deliver.enqueue(delivery_id)
    return {"redelivered": len(ids)}, 202


def _delivery(delivery_id: int) -> dict[str, Any]:
    db = db_session()
    delivery = deliveries.get(db, delivery_id)
    return schemas.delivery_json(delivery, deliveries.attempts_of(db, [delivery_id])[delivery_id])


@bp.post("/webhook-deliveries/<int:delivery_id>/redelivery")
@require_scope(Scope.ADMIN)
def redeliver(delivery_id: int) -> tuple[dict[str, Any], int]:
    with unit_of_work() as db:
        deliveries.redeliver(db, delivery_id, now=utcnow())
    tasks.deliver.enqueue(delivery_id)
    db = db_session()
    delivery = deliveries.get(db, delivery_id)
    return schemas.delivery_json(
        delivery, deliveries.attempts_of(db, [delivery_id])[delivery_id]
    ), 202
