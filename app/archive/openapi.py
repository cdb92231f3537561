"""The OpenAPI 3 description of /api/v1, written by hand to match what the code answers.

Served at /api/v1/openapi.json and rendered as the HTML page /documentation/api; a
schemathesis run (tests/integration/test_openapi.py) checks the code against it.
"""

from __future__ import annotations

from typing import Any

from app.archive.schemas import RANGE_PATTERN, SORTS
from app.documents.models import DocumentKind

MAX_ID = 2**31 - 1

_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
# As app.plaintext.text_problem: no control character, no bidi override in a single line;
# TAB, LF and CR allowed in a multi-line text.
_SINGLE_LINE_BANNED = "\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069"
_NO_CONTROL = f"^[^{_SINGLE_LINE_BANNED}]*$"
_MULTILINE_TEXT = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"
_DATE = {"type": "string", "format": "date", "pattern": "^(19|[2-9][0-9])[0-9]{2}-"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }


_ERRORS = {
    "401": _problem("Jeton absent, inconnu, révoqué ou expiré."),
    "403": _problem("Le jeton n'a pas la portée requise."),
    "default": _problem("Toute autre erreur, au format RFC 9457."),
}


def _path_id(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _ID, "description": description}


_DOCUMENT_ID = _path_id("document_id", "Identifiant du document")
_CLIENT_ID = _path_id("client_id", "Identifiant du client")
_VERSION_ID = _path_id("version_id", "Identifiant de la version des CGV")
# Answers described as JSON objects (their members are documented in the README).
_OBJECT: dict[str, Any] = {"type": "object"}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Un message par paramètre ou champ refusé (422).",
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
            "items": {"type": "array", "items": _ref("Document")},
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
            "document": _ref("Document"),
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
            "expires_at": {"type": "string", "format": "date-time"},
            "mail_sent_to": {"type": "string", "nullable": True},
        },
    },
    "Invitation": {
        "type": "object",
        "required": ["expires_at", "mail_sent_to"],
        "properties": {
            "expires_at": {"type": "string", "format": "date-time"},
            "mail_sent_to": {"type": "string", "nullable": True},
        },
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


def _op(
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


_NOT_FOUND = _problem("Introuvable.")
_INVALID = _problem("Paramètres ou corps refusés, un message par champ.")
_INTEGRITY = _problem("Un document du client a échoué au contrôle d'intégrité (journalisé).")

PATHS: dict[str, Any] = {
    "/documents": {
        "get": _op(
            "Lister les documents",
            "read",
            {
                "200": _json(_ref("DocumentPage"), "Une page de documents."),
                "404": _problem("Curseur inconnu : aucun document n'a cet identifiant."),
                "422": _INVALID,
            },
            parameters=[
                _query(
                    "client_id",
                    {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                    "Documents de ce client.",
                ),
                _query(
                    "kind",
                    {"type": "string", "enum": [k.value for k in DocumentKind]},
                    "Nature du document.",
                ),
                _query(
                    "reference",
                    {"type": "string", "minLength": 1, "maxLength": 60, "pattern": _NO_CONTROL},
                    "Référence exacte.",
                ),
                _query(
                    "sha256",
                    {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    "Empreinte SHA-256 exacte.",
                ),
                _query("created_from", _DATE, "Créés ce jour-là (heure de Paris) ou après."),
                _query("created_to", _DATE, "Créés ce jour-là (heure de Paris) ou avant."),
                _query(
                    "sort",
                    {"type": "string", "enum": list(SORTS)},
                    "Tri (préfixe `-` : décroissant) ; défaut `id`.",
                ),
                _query(
                    "cursor",
                    {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                    "Le `next_cursor` de la page précédente (l'identifiant de son dernier "
                    "document) : la page suivante, après ce document dans l'ordre de `sort`.",
                ),
                _query(
                    "limit",
                    {"type": "integer", "minimum": 1, "maximum": 200},
                    "Taille de page (défaut 50).",
                ),
            ],
        )
    },
    "/documents/{document_id}": {
        "get": _op(
            "Métadonnées d'un document",
            "read",
            {"200": _json(_ref("Document"), "Le document."), "404": _NOT_FOUND},
            parameters=[_DOCUMENT_ID],
        )
    },
    "/documents/{document_id}/content": {
        "get": _op(
            "Contenu d'un document",
            "read",
            {
                "200": {
                    "description": "Le contenu, vérifié (SHA-256) avant envoi ; lecture "
                    "journalisée. Aussi en réponse à plusieurs plages (non prises en charge) "
                    "ou à une plage dont la fin précède le début (RFC 9110 §14.2).",
                    "headers": {
                        "ETag": {"schema": {"type": "string"}},
                        "Accept-Ranges": {"schema": {"type": "string"}},
                    },
                    "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                },
                "206": {
                    "description": "La plage demandée (`Range: bytes=…`).",
                    "headers": {"Content-Range": {"schema": {"type": "string"}}},
                    "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                },
                "304": {"description": "`If-None-Match` correspond à l'ETag."},
                "404": _NOT_FOUND,
                "410": _problem("Contenu supprimé en fin de conservation."),
                "416": {
                    **_problem("Plage hors du document (début au-delà de la fin, suffixe nul)."),
                    "headers": {
                        "Content-Range": {
                            "schema": {"type": "string", "pattern": "^bytes \\*/[0-9]+$"},
                            "description": "`bytes */taille` (RFC 9110 §15.5.17).",
                        }
                    },
                },
                "422": _problem("En-tête Range qui n'est pas une plage d'octets."),
                "503": _problem(
                    "Contenu altéré ou manquant : contrôle d'intégrité échoué (journalisé)."
                ),
            },
            parameters=[
                _DOCUMENT_ID,
                {
                    "name": "Range",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "pattern": RANGE_PATTERN},
                    "description": "Une plage d'octets (`bytes=0-99`, `bytes=100-`, `bytes=-50`) ; "
                    "plusieurs plages donnent le contenu entier.",
                },
            ],
        )
    },
    "/documents/{document_id}/events": {
        "get": _op(
            "Événements du journal concernant un document",
            "read",
            {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["items"],
                        "properties": {"items": {"type": "array", "items": _ref("Event")}},
                    },
                    "Dépôt, lectures, gels, suppression… dans l'ordre du journal.",
                ),
                "404": _NOT_FOUND,
            },
            parameters=[_DOCUMENT_ID],
        )
    },
    "/documents/{document_id}/legal-hold": {
        "put": _op(
            "Poser un gel juridique",
            "admin",
            {
                "200": _json(_ref("Document"), "Document gelé : aucune suppression."),
                "404": _NOT_FOUND,
                "410": _problem("Document déjà supprimé."),
                "422": _INVALID,
            },
            parameters=[_DOCUMENT_ID],
            body={
                "type": "object",
                "required": ["reason"],
                "additionalProperties": False,
                "properties": {
                    "reason": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 500,
                        "pattern": f"^[^{_SINGLE_LINE_BANNED}]*[^\\s{_SINGLE_LINE_BANNED}]"
                        f"[^{_SINGLE_LINE_BANNED}]*$",
                    }
                },
            },
        ),
        "delete": _op(
            "Lever un gel juridique",
            "admin",
            {
                "200": _json(_ref("Document"), "Gel levé."),
                "404": _NOT_FOUND,
                "410": _problem("Document déjà supprimé."),
            },
            parameters=[_DOCUMENT_ID],
        ),
    },
    "/clients/{client_id}/termination": {
        "post": _op(
            "Enregistrer la résiliation d'un client",
            "restitution",
            {
                "201": _json(
                    _ref("Termination"), "Résiliation enregistrée ; fins de conservation datées."
                ),
                "404": _NOT_FOUND,
                "409": _problem("Résiliation déjà enregistrée."),
                "422": _INVALID,
            },
            parameters=[_CLIENT_ID],
            body={
                "type": "object",
                "required": ["terminated_on"],
                "additionalProperties": False,
                "properties": {
                    "terminated_on": _DATE,
                    "reason": {"type": "string", "maxLength": 2000, "pattern": _MULTILINE_TEXT},
                },
            },
        )
    },
    "/clients/{client_id}/restitution": {
        "get": _op(
            "Télécharger la dernière archive de restitution",
            "restitution",
            {
                "200": {
                    "description": "La dernière archive .zip produite pour le client, vérifiée "
                    "(SHA-256) avant envoi ; lecture journalisée. Un GET ne produit rien.",
                    "content": {
                        "application/zip": {"schema": {"type": "string", "format": "binary"}}
                    },
                },
                "404": _problem(
                    "Client inconnu, ou aucune archive encore produite : la demander par un "
                    "POST sur la même adresse."
                ),
                "503": _INTEGRITY,
            },
            parameters=[_CLIENT_ID],
        ),
        "post": _op(
            "Demander l'archive de restitution pour le client",
            "restitution",
            {
                "200": _json(
                    _ref("Restitution"),
                    "Les données du client n'ont pas changé depuis la dernière archive : "
                    "c'est elle qui est renvoyée ; nouveau lien de téléchargement envoyé.",
                ),
                "201": {
                    **_json(
                        _ref("Restitution"),
                        "Archive produite et archivée ; lien de "
                        "téléchargement expirant envoyé au contact du client.",
                    ),
                    "headers": {
                        "Location": {
                            "schema": {"type": "string"},
                            "description": "Adresse du document archivé.",
                        }
                    },
                },
                "404": _NOT_FOUND,
                "503": _INTEGRITY,
            },
            parameters=[_CLIENT_ID],
            description="Idempotente : tant que les données du client (documents, "
            "acceptations, journal hors restitutions) n'ont pas changé, aucune nouvelle "
            "archive n'est produite.",
        ),
    },
    "/clients/{client_id}/restitution-invitation": {
        "post": _op(
            "Inviter le client à demander son archive",
            "restitution",
            {
                "201": _json(_ref("Invitation"), "Lien de demande expirant envoyé au contact."),
                "404": _NOT_FOUND,
            },
            parameters=[_CLIENT_ID],
        )
    },
    "/clients/{client_id}/cgv-acceptances": {
        "get": _op(
            "Historique des acceptations des CGV",
            "read",
            {"200": _json(_ref("CgvAcceptances"), "Les acceptations."), "404": _NOT_FOUND},
            parameters=[_CLIENT_ID],
        )
    },
    "/clients/{client_id}/cgv": {
        "get": _op(
            "Version des CGV opposable au client",
            "read",
            {
                "200": _json(_OBJECT, "La version opposable et pourquoi."),
                "404": _NOT_FOUND,
                "422": _INVALID,
            },
            parameters=[
                _CLIENT_ID,
                _query("at", _DATE, "Date (AAAA-MM-JJ, heure de Paris) ; défaut : aujourd'hui."),
            ],
        )
    },
    "/cgv-versions": {
        "get": _op(
            "Versions des CGV publiées",
            "read",
            {"200": _json(_OBJECT, "Les versions, de la plus récente à la plus ancienne.")},
        )
    },
    "/cgv-versions/{version_id}": {
        "get": _op(
            "Une version des CGV",
            "read",
            {"200": _json(_OBJECT, "Métadonnées, SHA-256, liens."), "404": _NOT_FOUND},
            parameters=[_VERSION_ID],
        )
    },
    "/cgv-versions/{version_id}/acceptances": {
        "get": _op(
            "Acceptations d'une version des CGV",
            "read",
            {"200": _json(_OBJECT, "Les acceptations."), "404": _NOT_FOUND},
            parameters=[_VERSION_ID],
        )
    },
    "/quotes/{quote_id}": {
        "get": _op(
            "Un devis",
            "read",
            {
                "200": _json(_OBJECT, "Lignes, remises, TVA par taux, totaux, conditions."),
                "404": _NOT_FOUND,
            },
            parameters=[_path_id("quote_id", "Identifiant du devis")],
        )
    },
    "/documents/{document_id}/verification": {
        "get": _op(
            "Vérification des signatures d'un document",
            "read",
            {
                "200": _json(
                    _OBJECT,
                    "Chaque signature : signataire, heure, horodatage, "
                    "intégrité, chaîne, niveau de modification, niveau PAdES.",
                ),
                "404": _NOT_FOUND,
                "409": _problem("Le document n'est pas un PDF : aucune signature à vérifier."),
                "503": _INTEGRITY,
            },
            parameters=[_DOCUMENT_ID],
        )
    },
}


def openapi_spec() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Paraphe — API archiviste",
            "version": "1",
            "description": "Documents archivés, journal, résiliation, restitution. "
            "Authentification : `Authorization: Bearer <jeton>` ; erreurs RFC 9457.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
