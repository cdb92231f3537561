"""The webhooks' part of the OpenAPI description. `app.archive.openapi`, above this feature,
merges it, passing its building blocks (`parts`: `operation`, `json_body`, `problem`…) so
that both halves share one shape without this feature importing the one above it."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from app.events.catalogue import EVENT_TYPES
from app.webhooks.schemas import DATE_PATTERN, EVENT_ID_PATTERN, MAX_PAGE, URL_PATTERN

ENDPOINT_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["url", "event_types"],
    "additionalProperties": False,
    "properties": {
        "url": {"type": "string", "pattern": URL_PATTERN, "maxLength": 200},
        "event_types": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"type": "string", "enum": list(EVENT_TYPES)},
        },
        "description": {"type": "string", "maxLength": 200},
        "enabled": {"type": "boolean"},
    },
}


def paths(parts: ModuleType) -> dict[str, Any]:
    """The /events and /webhook-* operations, built with `app.archive.openapi_parts`."""
    operation, json_body, problem = parts.operation, parts.json_body, parts.problem
    on_one, obj, invalid, not_found = parts.on_one, parts.OBJECT, parts.INVALID, parts.NOT_FOUND
    endpoint_id = parts.path_id("endpoint_id", "Identifiant du point de réception")
    delivery_id = parts.path_id("delivery_id", "Identifiant de la livraison")
    # The description is a single line of text: the same characters refused as everywhere.
    properties = dict(ENDPOINT_BODY["properties"])
    properties["description"] = dict(properties["description"], pattern=parts.NO_CONTROL)
    body = dict(ENDPOINT_BODY, properties=properties)
    return {
        "/events": {
            "get": operation(
                "Événements, pour les récepteurs qui interrogent",
                "read",
                {
                    "200": json_body(
                        obj,
                        "Les événements enregistrés après `after`, du plus ancien au plus "
                        "récent, et `next_after` pour la page suivante.",
                    ),
                    "404": problem("Aucun événement n'a l'identifiant `after`."),
                    "422": invalid,
                },
                parameters=[
                    parts.query(
                        "after",
                        {"type": "string", "pattern": EVENT_ID_PATTERN},
                        "Identifiant du dernier événement déjà lu.",
                    ),
                    parts.query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                        "Nombre d'événements au plus (100 par défaut).",
                    ),
                ],
            )
        },
        "/webhook-endpoints": {
            "get": operation(
                "Points de réception des webhooks",
                "admin",
                {"200": json_body(obj, "Les points de réception (sans leur secret).")},
            ),
            "post": operation(
                "Créer un point de réception",
                "admin",
                {
                    "201": json_body(obj, "Le point de réception et son secret, affiché une fois."),
                    "422": invalid,
                },
                body=body,
            ),
        },
        "/webhook-endpoints/{endpoint_id}": {
            "get": on_one(
                "Un point de réception",
                "admin",
                endpoint_id,
                {"200": json_body(obj, "Le point de réception.")},
            ),
            "delete": on_one(
                "Supprimer un point de réception",
                "admin",
                endpoint_id,
                {
                    "200": json_body(
                        obj,
                        "Supprimé avec son journal des livraisons ; les livraisons en attente "
                        "sont annulées (`cancelled_deliveries`). Les événements restent "
                        "lisibles par `GET /events`.",
                    )
                },
            ),
        },
        "/webhook-endpoints/{endpoint_id}/secret-rotation": {
            "post": on_one(
                "Changer le secret d'un point de réception",
                "admin",
                endpoint_id,
                {
                    "200": json_body(
                        obj, "Le nouveau secret ; l'ancien signe aussi pendant 24 heures."
                    )
                },
            )
        },
        "/webhook-endpoints/{endpoint_id}/deliveries": {
            "get": on_one(
                "Journal des livraisons d'un point de réception",
                "admin",
                endpoint_id,
                {"200": json_body(obj, "Les 50 dernières livraisons et leurs tentatives.")},
            )
        },
        "/webhook-endpoints/{endpoint_id}/test": {
            "post": on_one(
                "Envoyer un événement de test",
                "admin",
                endpoint_id,
                {"202": json_body(obj, "La livraison de l'événement `webhook.test`.")},
            )
        },
        "/webhook-endpoints/{endpoint_id}/redelivery": {
            "post": operation(
                "Renvoyer les événements depuis une date",
                "admin",
                {
                    "202": json_body(obj, "Le nombre d'événements renvoyés."),
                    "404": not_found,
                    "422": invalid,
                },
                parameters=[endpoint_id],
                body={
                    "type": "object",
                    "required": ["since"],
                    "additionalProperties": False,
                    "properties": {"since": dict(parts.DATE, pattern=DATE_PATTERN)},
                },
            )
        },
        "/webhook-deliveries/{delivery_id}/redelivery": {
            "post": on_one(
                "Renvoyer une livraison",
                "admin",
                delivery_id,
                {"202": json_body(obj, "La livraison, reprogrammée.")},
            )
        },
    }
