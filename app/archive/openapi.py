"""The OpenAPI 3 description of /api/v1, written by hand to match what the code answers.

Served at /api/v1/openapi.json and rendered as the HTML page /documentation/api; a
schemathesis run (tests/integration/test_openapi.py) checks the code against it.
"""

from __future__ import annotations

from typing import Any

from app.archive import (
    openapi_billing,
    openapi_contract_schemas,
    openapi_contracts,
    openapi_parts,
    openapi_restitution,
    openapi_write,
)
from app.archive.openapi_parts import (
    CLIENT_ID,
    DATE,
    DOCUMENT_ID,
    INTEGRITY,
    INVALID,
    MAX_ID,
    NO_CONTROL,
    NOT_FOUND,
    OBJECT,
    SCHEMAS,
    SINGLE_LINE_BANNED,
    VERSION_ID,
    closed,
    json_body,
    operation,
    path_id,
    problem,
    query,
    read_one,
    ref,
    required_object,
)
from app.archive.schemas import RANGE_PATTERN, SORTS
from app.documents.models import DocumentKind
from app.webhooks.openapi import paths as webhook_paths

PATHS: dict[str, Any] = {
    "/documents": {
        "get": operation(
            "Lister les documents",
            "read",
            {
                "200": json_body(ref("DocumentPage"), "Une page de documents."),
                "404": problem("Curseur inconnu : aucun document n'a cet identifiant."),
                "422": INVALID,
            },
            parameters=[
                query(
                    "client_id",
                    {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                    "Documents de ce client.",
                ),
                query(
                    "kind",
                    {"type": "string", "enum": [k.value for k in DocumentKind]},
                    "Nature du document.",
                ),
                query(
                    "reference",
                    {"type": "string", "minLength": 1, "maxLength": 60, "pattern": NO_CONTROL},
                    "Référence exacte.",
                ),
                query(
                    "sha256",
                    {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    "Empreinte SHA-256 exacte.",
                ),
                query("created_from", DATE, "Créés ce jour-là (heure de Paris) ou après."),
                query("created_to", DATE, "Créés ce jour-là (heure de Paris) ou avant."),
                query(
                    "sort",
                    {"type": "string", "enum": list(SORTS)},
                    "Tri (préfixe `-` : décroissant) ; défaut `id`.",
                ),
                query(
                    "cursor",
                    {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                    "Le `next_cursor` de la page précédente (l'identifiant de son dernier "
                    "document) : la page suivante, après ce document dans l'ordre de `sort`.",
                ),
                query(
                    "limit",
                    {"type": "integer", "minimum": 1, "maximum": 200},
                    "Taille de page (défaut 50).",
                ),
            ],
        )
    },
    "/documents/{document_id}": read_one(
        "Métadonnées d'un document", ref("Document"), "Le document.", DOCUMENT_ID
    ),
    "/documents/{document_id}/content": {
        "get": operation(
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
                "404": NOT_FOUND,
                "410": problem("Contenu supprimé en fin de conservation."),
                "416": {
                    **problem("Plage hors du document (début au-delà de la fin, suffixe nul)."),
                    "headers": {
                        "Content-Range": {
                            "schema": {"type": "string", "pattern": "^bytes \\*/[0-9]+$"},
                            "description": "`bytes */taille` (RFC 9110 §15.5.17).",
                        }
                    },
                },
                "422": problem("En-tête Range qui n'est pas une plage d'octets."),
                "503": problem(
                    "Contenu altéré ou manquant : contrôle d'intégrité échoué (journalisé)."
                ),
            },
            parameters=[
                DOCUMENT_ID,
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
    "/documents/{document_id}/events": read_one(
        "Événements du journal concernant un document",
        required_object({"items": {"type": "array", "items": ref("Event")}}),
        "Dépôt, lectures, gels, suppression… dans l'ordre du journal.",
        DOCUMENT_ID,
    ),
    "/documents/{document_id}/legal-hold": {
        "put": operation(
            "Poser un gel juridique",
            "admin",
            {
                "200": json_body(ref("Document"), "Document gelé : aucune suppression."),
                "404": NOT_FOUND,
                "410": problem("Document déjà supprimé."),
                "422": INVALID,
            },
            parameters=[DOCUMENT_ID],
            body=closed(
                {
                    "reason": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 500,
                        "pattern": f"^[^{SINGLE_LINE_BANNED}]*[^\\s{SINGLE_LINE_BANNED}]"
                        f"[^{SINGLE_LINE_BANNED}]*$",
                    }
                },
                ["reason"],
            ),
        ),
        "delete": operation(
            "Lever un gel juridique",
            "admin",
            {
                "200": json_body(ref("Document"), "Gel levé."),
                "404": NOT_FOUND,
                "410": problem("Document déjà supprimé."),
            },
            parameters=[DOCUMENT_ID],
        ),
    },
    **openapi_restitution.PATHS,
    "/clients/{client_id}/cgv-acceptances": read_one(
        "Historique des acceptations des CGV",
        ref("CgvAcceptances"),
        "Les acceptations.",
        CLIENT_ID,
    ),
    "/clients/{client_id}/cgv": {
        "get": operation(
            "Version des CGV opposable au client",
            "read",
            {
                "200": json_body(OBJECT, "La version opposable et pourquoi."),
                "404": NOT_FOUND,
                "422": INVALID,
            },
            parameters=[
                CLIENT_ID,
                query("at", DATE, "Date (AAAA-MM-JJ, heure de Paris) ; défaut : aujourd'hui."),
            ],
        )
    },
    "/cgv-versions": {
        "get": operation(
            "Versions des CGV publiées",
            "read",
            {"200": json_body(OBJECT, "Les versions, de la plus récente à la plus ancienne.")},
        )
    },
    "/cgv-versions/{version_id}": read_one(
        "Une version des CGV",
        OBJECT,
        "Métadonnées, SHA-256, liens, avancement des notifications (`notifications`).",
        VERSION_ID,
    ),
    "/cgv-versions/{version_id}/acceptances": read_one(
        "Acceptations d'une version des CGV", OBJECT, "Les acceptations.", VERSION_ID
    ),
    "/quotes/{quote_id}": read_one(
        "Un devis",
        OBJECT,
        "Lignes, remises, TVA par taux, totaux, conditions.",
        path_id("quote_id", "Identifiant du devis"),
    ),
    "/documents/{document_id}/verification": {
        "get": operation(
            "Vérification des signatures d'un document",
            "read",
            {
                "200": json_body(
                    OBJECT,
                    "Chaque signature : signataire, heure, horodatage, "
                    "intégrité, chaîne, niveau de modification, niveau PAdES.",
                ),
                "404": NOT_FOUND,
                "409": problem("Le document n'est pas un PDF : aucune signature à vérifier."),
                "503": INTEGRITY,
            },
            parameters=[DOCUMENT_ID],
        )
    },
}


def openapi_spec() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Paraphe — API",
            "version": "1",
            "description": "Documents archivés, journal, résiliation, restitution, "
            "événements et webhooks ; clients, devis, contrats et demandes de signature "
            "(portée write) ; factures et avoirs. "
            "Authentification : `Authorization: Bearer <jeton>` ; erreurs RFC 9457, en "
            "français, ou en anglais avec `Accept-Language: en` (schéma `Problem`).",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _merged(
            PATHS,
            webhook_paths(openapi_parts),
            openapi_write.PATHS,
            openapi_contracts.PATHS,
            openapi_billing.PATHS,
        ),
        "components": {
            "schemas": {
                **SCHEMAS,
                **openapi_write.SCHEMAS,
                **openapi_contract_schemas.SCHEMAS,
                **openapi_billing.SCHEMAS,
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _merged(*parts: dict[str, Any]) -> dict[str, Any]:
    """The paths of every part; one path may get its operations from two parts (a GET that
    reads, a PATCH that writes)."""
    paths: dict[str, Any] = {}
    for part in parts:
        for path, operations in part.items():
            paths[path] = {**paths.get(path, {}), **operations}
    return paths
