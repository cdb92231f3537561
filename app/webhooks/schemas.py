"""The API's shapes for endpoints, deliveries and events: parsing (the same bounds as the
OpenAPI description, `app.webhooks.openapi`) and serialising. Never a secret, except in the
answer that creates or rotates it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Any

from app.clock import PARIS
from app.events.catalogue import EVENT_TYPES
from app.events.models import Event
from app.messages import msg
from app.plaintext import text_problem
from app.webhooks.endpoints import Deletion, EndpointInput
from app.webhooks.errors import EndpointInvalid
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.webhooks.rules import absolute_links

_PORT = "([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
URL_PATTERN = (
    f"^https?://[a-z0-9]([a-z0-9.-]{{0,60}}[a-z0-9])?(:{_PORT})?(/[A-Za-z0-9._~/-]{{0,100}})?$"
)
"""What the API accepts as an endpoint URL: stricter than the page (ASCII host in lower case,
a plain path), so that the description says exactly what is accepted."""

EVENT_ID_PATTERN = "^evt_[0-9a-f]{24}$"
DATE_PATTERN = "^(19|[2-9][0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$"
MAX_PAGE = 500


def parse_endpoint(body: Any) -> EndpointInput:
    if not isinstance(body, dict):
        raise EndpointInvalid(
            {"body": msg('Objet JSON attendu : {"url": "https://…", "event_types": […]}.')}
        )
    errors: dict[str, str] = {}
    url = body.get("url")
    if not isinstance(url, str) or not re.fullmatch(URL_PATTERN, url):
        errors["url"] = msg("Adresse https://… attendue (hôte en minuscules, chemin simple).")
    types = body.get("event_types")
    if (
        not isinstance(types, list)
        or not types
        or len(types) != len(set(map(str, types)))
        or not all(isinstance(t, str) and t in EVENT_TYPES for t in types)
    ):
        errors["event_types"] = msg(
            "Liste non vide, sans doublon, de types connus : {types}", types=", ".join(EVENT_TYPES)
        )
    description = body.get("description", "")
    if not isinstance(description, str) or len(description) > 200:
        errors["description"] = msg("Texte de 200 caractères au plus.")
    elif problem := text_problem(description):
        errors["description"] = problem
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        errors["enabled"] = msg("true ou false.")
    for name in sorted(set(body) - {"url", "event_types", "description", "enabled"}):
        errors[name] = msg("Champ inconnu.")
    if errors:
        raise EndpointInvalid(errors)
    assert isinstance(url, str) and isinstance(types, list)  # checked above
    return EndpointInput(url=url, event_types=types, description=description, enabled=enabled)


def parse_since(body: Any) -> datetime:
    """`{"since": "AAAA-MM-JJ"}`: midnight of that day in Paris, as an admin means it."""
    if not isinstance(body, dict):
        raise EndpointInvalid({"body": msg('Objet JSON attendu : {"since": "AAAA-MM-JJ"}.')})
    errors: dict[str, str] = {name: msg("Champ inconnu.") for name in sorted(set(body) - {"since"})}
    raw = body.get("since")
    day = None
    if isinstance(raw, str) and re.fullmatch(DATE_PATTERN, raw):
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            day = None
    if day is None:
        errors["since"] = msg("Date attendue (AAAA-MM-JJ).")
    if errors or day is None:
        raise EndpointInvalid(errors)
    return datetime.combine(day, time.min, tzinfo=PARIS).astimezone(UTC)


def parse_after(args: dict[str, str]) -> tuple[str | None, int]:
    errors: dict[str, str] = {}
    after = args.get("after")
    if after is not None and not re.fullmatch(EVENT_ID_PATTERN, after):
        errors["after"] = msg("Identifiant d'événement attendu (evt_…).")
    raw_limit = args.get("limit", "100")
    limit = int(raw_limit) if re.fullmatch("[0-9]{1,4}", raw_limit) else 0
    if not 1 <= limit <= MAX_PAGE:
        errors["limit"] = msg("Entier de 1 à {max_page}.", max_page=MAX_PAGE)
    if errors:
        raise EndpointInvalid(errors)
    return after, limit


def endpoint_json(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "enabled": endpoint.enabled,
        "failing_since": endpoint.failing_since.isoformat() if endpoint.failing_since else None,
        "previous_secret_valid_until": (
            endpoint.previous_secret_until.isoformat() if endpoint.previous_secret_until else None
        ),
        "created_at": endpoint.created_at.isoformat(),
    }
    if with_secret:
        data["secret"] = endpoint.secret
    return data


def attempt_json(attempt: WebhookAttempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "outcome": attempt.outcome.value,
        "started_at": attempt.started_at.isoformat(),
        "status_code": attempt.status_code,
        "latency_ms": attempt.latency_ms,
        "response_excerpt": attempt.response_excerpt,
        "error": attempt.error,
    }


def delivery_json(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "event": {"id": delivery.event.public_id, "type": delivery.event.type},
        "status": delivery.status.value,
        "next_attempt_at": (
            delivery.next_attempt_at.isoformat() if delivery.next_attempt_at else None
        ),
        "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
        "attempts": [attempt_json(a) for a in attempts],
    }


def event_json(event: Event, base_url: str) -> dict[str, Any]:
    """An event as polled: the same envelope as a webhook body, with its id."""
    return {
        "id": event.public_id,
        "type": event.type,
        "timestamp": event.created_at.isoformat(),
        "data": absolute_links(event.payload, base_url),
    }


def deletion_json(deletion: Deletion) -> dict[str, Any]:
    return {
        "id": deletion.endpoint_id,
        "deleted": True,
        "url": deletion.url,
        "cancelled_deliveries": deletion.cancelled,
        "removed_deliveries": deletion.deliveries,
    }
