"""The building blocks of the OpenAPI description (`app.archive.openapi`): the component
schemas (the JSON bodies the API answers with), parameters, responses and operations."""

from __future__ import annotations

from typing import Any

from app.documents.models import DocumentKind


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


MAX_ID = 2**31 - 1

ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
STAMP = {"type": "string", "format": "date-time"}
STAMP_OR_NULL = {"type": "string", "format": "date-time", "nullable": True}
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
# As app.plaintext.text_problem: no control character, no bidi override in a single line;
# TAB, LF and CR allowed in a multi-line text.
SINGLE_LINE_BANNED = "\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069"
NO_CONTROL = f"^[^{SINGLE_LINE_BANNED}]*$"
MULTILINE_TEXT = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"
DATE = {"type": "string", "format": "date", "pattern": "^(19|[2-9][0-9])[0-9]{2}-"}


def required_object(
    properties: dict[str, Any], *, description: str | None = None
) -> dict[str, Any]:
    """An object whose members are all required, in the order given: what most answers are."""
    shape: dict[str, Any] = {"type": "object"}
    if description is not None:
        shape["description"] = description
    return {**shape, "required": list(properties), "properties": properties}


def strings_object(*names: str) -> dict[str, Any]:
    """An object whose members, all required, are strings (links, `{field, message}`)."""
    return required_object({name: {"type": "string"} for name in names})


def closed(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """A body as `app.json_input` reads it: these members only (an unknown one is a 422)."""
    shape: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
    if required:
        shape["required"] = required
    return shape


def json_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": ref("Problem")}},
    }


_ERRORS = {
    "401": problem("Jeton absent, inconnu, révoqué ou expiré."),
    "403": problem("Le jeton n'a pas la portée requise."),
    "default": problem("Toute autre erreur, au format RFC 9457."),
}


def path_id(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": ID, "description": description}


DOCUMENT_ID = path_id("document_id", "Identifiant du document")
CLIENT_ID = path_id("client_id", "Identifiant du client")
VERSION_ID = path_id("version_id", "Identifiant de la version des CGV")
REQUEST_ID = path_id("request_id", "Identifiant de la demande de restitution")
# Answers described as JSON objects (their members are documented in the README).
OBJECT: dict[str, Any] = {"type": "object"}


def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def operation(
    summary: str,
    scope: str,
    responses: dict[str, Any],
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    description: str = "",
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "description": (description + f"\n\nPortée requise : `{scope}`.").strip(),
        "x-scope": scope,
        "parameters": parameters or [],
        "responses": {**responses, **_ERRORS},
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return operation


NOT_FOUND = problem("Introuvable.")


def on_one(
    summary: str, scope: str, parameter: dict[str, Any], answers: dict[str, Any]
) -> dict[str, Any]:
    """An operation on one resource named by a path parameter: `answers`, or 404 when there
    is no such resource."""
    return operation(summary, scope, {**answers, "404": NOT_FOUND}, parameters=[parameter])


def read_one(
    summary: str,
    schema: dict[str, Any],
    description: str,
    parameter: dict[str, Any],
    *,
    headers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A GET of one resource (read scope) named by a path parameter: 200 (with `headers`, if
    given) or 404."""
    found = json_body(schema, description) | ({"headers": headers} if headers else {})
    return {"get": on_one(summary, "read", parameter, {"200": found})}


INVALID = problem("Paramètres ou corps refusés, un message par champ.")
INTEGRITY = problem("Un document du client a échoué au contrôle d'intégrité (journalisé).")

_LINK_SENT: dict[str, Any] = {
    "expires_at": STAMP,
    "mail_sent_to": {
        "type": "string",
        "nullable": True,
        "description": "null : le courriel n'a pas pu partir (le lien reste valable).",
    },
}
"""An expiring link emailed to the client's contact: restitution and invitation alike."""

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "Une erreur (RFC 9457), en français par défaut. En anglais (`title`, "
        "`detail` et chaque `errors[].message`) quand `Accept-Language` place l'anglais avant "
        "le français (`en`, `en-GB,en;q=0.9`) ; les chemins `errors[].field` sont les mêmes "
        "dans les deux langues.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "description": "Données refusées (400, 422) : chaque problème des paramètres, "
                "des en-têtes ou du corps, par chemin (`lines[2].quantity`), tous dans la même "
                "réponse.",
                "items": strings_object("field", "message"),
            },
        },
    },
    "Document": required_object(
        {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": [k.value for k in DocumentKind]},
            "client_id": {"type": "integer", "nullable": True},
            "reference": {"type": "string"},
            "version": {"type": "integer"},
            "sha256": SHA256,
            "size": {"type": "integer", "minimum": 0},
            "media_type": {"type": "string"},
            "filename": {"type": "string"},
            "created_at": STAMP,
            "retention_basis": {"type": "string", "nullable": True},
            "retention_until": {
                "type": "string",
                "format": "date",
                "nullable": True,
                "description": "Dernier jour de conservation ; null si la "
                "fin du contrat n'est pas encore connue.",
            },
            "legal_hold": {"type": "boolean"},
            "legal_hold_reason": {"type": "string", "nullable": True},
            "purged_at": {
                **STAMP_OR_NULL,
                "description": "Contenu supprimé en fin de conservation.",
            },
            "links": strings_object("self", "content"),
        }
    ),
    "DocumentPage": required_object(
        {
            "items": {"type": "array", "items": ref("Document")},
            "next_cursor": {
                "type": "string",
                "nullable": True,
                "pattern": "^[1-9][0-9]*$",
                "description": "À repasser dans `cursor` (l'identifiant du dernier document "
                "de la page) ; null en fin de liste.",
            },
        }
    ),
    "Event": required_object(
        {
            "id": {"type": "integer"},
            "at": STAMP,
            "actor": {"type": "string"},
            "action": {"type": "string"},
            "details": {"type": "object"},
            "prev_hash": SHA256,
            "hash": SHA256,
        }
    ),
    "Termination": required_object(
        {
            "client_id": {"type": "integer"},
            "status": {"type": "string", "enum": ["terminated"]},
            "terminated_on": {"type": "string", "format": "date"},
        }
    ),
    "Restitution": {
        "type": "object",
        "required": [
            "document",
            "created",
            "files",
            "manifest_sha256",
            "download_url",
            "expires_at",
            "mail_sent_to",
        ],
        "properties": {
            "status": {"type": "string", "enum": ["ready"]},
            "document": ref("Document"),
            "created": {
                "type": "boolean",
                "description": "false : archive existante, les données n'ayant pas changé.",
            },
            "files": {
                "type": "integer",
                "minimum": 0,
                "description": "Nombre de fichiers de l'archive (hors manifeste et cachet).",
            },
            "manifest_sha256": SHA256,
            "download_url": {"type": "string"},
            **_LINK_SENT,
        },
    },
    "RestitutionRequest": required_object(
        {
            "id": {"type": "integer"},
            "client_id": {"type": "integer"},
            "status": {"type": "string", "enum": ["pending", "ready", "failed"]},
            "requested_at": STAMP,
            "finished_at": STAMP_OR_NULL,
            "document": {"allOf": [ref("Document")], "nullable": True},
            "content_url": {
                "type": "string",
                "nullable": True,
                "description": "Où l'API sert l'archive (GET), une fois prête.",
            },
            "expires_at": STAMP_OR_NULL,
            "mail_sent_to": {"type": "string", "nullable": True},
            "problem": {
                "type": "string",
                "nullable": True,
                "description": "Pourquoi la production a échoué (status « failed »).",
            },
        },
        description="Une archive de restitution produite en arrière-plan (travail "
        "archive.build_restitution) : « pending » tant qu'elle est en production, puis "
        "« ready » (archivée, lien de téléchargement envoyé par courriel au contact du "
        "client ; le lien lui-même n'est donné qu'à lui) ou « failed » (un document a "
        "échoué au contrôle d'intégrité, journalisé : redemander une fois le fichier "
        "restauré).",
    ),
    "Invitation": required_object(_LINK_SENT),
    "CgvAcceptances": required_object(
        {
            "client_id": {"type": "integer"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": [
                        "id",
                        "cgv_version",
                        "text_sha256",
                        "person_name",
                        "person_email",
                        "method",
                        "accepted_at",
                    ],
                    "properties": {
                        "id": {"type": "integer"},
                        "cgv_version": {"type": "object"},
                        "text_sha256": {"type": "string"},
                        "person_name": {"type": "string"},
                        "person_email": {"type": "string"},
                        "method": {"type": "string"},
                        "accepted_at": STAMP,
                        "ip": {"type": "string", "nullable": True},
                        "user_agent": {"type": "string", "nullable": True},
                        "contract_version_id": {"type": "integer", "nullable": True},
                        "signature_request_id": {"type": "integer", "nullable": True},
                    },
                },
            },
        }
    ),
}
