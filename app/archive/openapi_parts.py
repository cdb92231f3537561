"""The building blocks of the OpenAPI description (`app.archive.openapi`): the component
schemas (the JSON bodies the API answers with), parameters, responses and operations."""

from __future__ import annotations

from typing import Any

from app.documents.models import DocumentKind


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


MAX_ID = 2**31 - 1

_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
# As app.plaintext.text_problem: no control character, no bidi override in a single line;
# TAB, LF and CR allowed in a multi-line text.
SINGLE_LINE_BANNED = "\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069"
NO_CONTROL = f"^[^{SINGLE_LINE_BANNED}]*$"
MULTILINE_TEXT = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"
DATE = {"type": "string", "format": "date", "pattern": "^(19|[2-9][0-9])[0-9]{2}-"}


def strings_object(*names: str) -> dict[str, Any]:
    """An object whose members, all required, are strings (links, `{field, message}`)."""
    return {
        "type": "object",
        "required": list(names),
        "properties": {name: {"type": "string"} for name in names},
    }


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
    return {"name": name, "in": "path", "required": True, "schema": _ID, "description": description}


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


def read_one(
    summary: str, schema: dict[str, Any], description: str, parameter: dict[str, Any]
) -> dict[str, Any]:
    """A GET of one resource (read scope) named by a path parameter: 200 or 404."""
    return {
        "get": operation(
            summary,
            "read",
            {"200": json_body(schema, description), "404": NOT_FOUND},
            parameters=[parameter],
        )
    }


INVALID = problem("Paramètres ou corps refusés, un message par champ.")
INTEGRITY = problem("Un document du client a échoué au contrôle d'intégrité (journalisé).")

_LINK_SENT: dict[str, Any] = {
    "expires_at": {"type": "string", "format": "date-time"},
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
    "Document": {
        "type": "object",
        "required": [
            "id",
            "kind",
            "client_id",
            "reference",
            "version",
            "sha256",
            "size",
            "media_type",
            "filename",
            "created_at",
            "retention_basis",
            "retention_until",
            "legal_hold",
            "legal_hold_reason",
            "purged_at",
            "links",
        ],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": [k.value for k in DocumentKind]},
            "client_id": {"type": "integer", "nullable": True},
            "reference": {"type": "string"},
            "version": {"type": "integer"},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "size": {"type": "integer", "minimum": 0},
            "media_type": {"type": "string"},
            "filename": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
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
                "type": "string",
                "format": "date-time",
                "nullable": True,
                "description": "Contenu supprimé en fin de conservation.",
            },
            "links": {
                "type": "object",
                "required": ["self", "content"],
                "properties": {"self": {"type": "string"}, "content": {"type": "string"}},
            },
        },
    },
    "DocumentPage": {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": ref("Document")},
            "next_cursor": {
                "type": "string",
                "nullable": True,
                "pattern": "^[1-9][0-9]*$",
                "description": "À repasser dans `cursor` (l'identifiant du dernier document "
                "de la page) ; null en fin de liste.",
            },
        },
    },
    "Event": {
        "type": "object",
        "required": ["id", "at", "actor", "action", "details", "prev_hash", "hash"],
        "properties": {
            "id": {"type": "integer"},
            "at": {"type": "string", "format": "date-time"},
            "actor": {"type": "string"},
            "action": {"type": "string"},
            "details": {"type": "object"},
            "prev_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        },
    },
    "Termination": {
        "type": "object",
        "required": ["client_id", "status", "terminated_on"],
        "properties": {
            "client_id": {"type": "integer"},
            "status": {"type": "string", "enum": ["terminated"]},
            "terminated_on": {"type": "string", "format": "date"},
        },
    },
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
            "manifest_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "download_url": {"type": "string"},
            **_LINK_SENT,
        },
    },
    "RestitutionRequest": {
        "type": "object",
        "description": "Une archive de restitution produite en arrière-plan (travail "
        "archive.build_restitution) : « pending » tant qu'elle est en production, puis "
        "« ready » (archivée, lien de téléchargement envoyé par courriel au contact du "
        "client ; le lien lui-même n'est donné qu'à lui) ou « failed » (un document a "
        "échoué au contrôle d'intégrité, journalisé : redemander une fois le fichier "
        "restauré).",
        "required": [
            "id",
            "client_id",
            "status",
            "requested_at",
            "finished_at",
            "document",
            "content_url",
            "expires_at",
            "mail_sent_to",
            "problem",
        ],
        "properties": {
            "id": {"type": "integer"},
            "client_id": {"type": "integer"},
            "status": {"type": "string", "enum": ["pending", "ready", "failed"]},
            "requested_at": {"type": "string", "format": "date-time"},
            "finished_at": {"type": "string", "format": "date-time", "nullable": True},
            "document": {"allOf": [ref("Document")], "nullable": True},
            "content_url": {
                "type": "string",
                "nullable": True,
                "description": "Où l'API sert l'archive (GET), une fois prête.",
            },
            "expires_at": {"type": "string", "format": "date-time", "nullable": True},
            "mail_sent_to": {"type": "string", "nullable": True},
            "problem": {
                "type": "string",
                "nullable": True,
                "description": "Pourquoi la production a échoué (status « failed »).",
            },
        },
    },
    "Invitation": {
        "type": "object",
        "required": ["expires_at", "mail_sent_to"],
        "properties": _LINK_SENT,
    },
    "CgvAcceptances": {
        "type": "object",
        "required": ["client_id", "items"],
        "properties": {
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
                        "accepted_at": {"type": "string", "format": "date-time"},
                        "ip": {"type": "string", "nullable": True},
                        "user_agent": {"type": "string", "nullable": True},
                        "contract_version_id": {"type": "integer", "nullable": True},
                        "signature_request_id": {"type": "integer", "nullable": True},
                    },
                },
            },
        },
    },
}
