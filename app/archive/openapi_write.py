"""The write API's part of the OpenAPI description (scope write): clients and quotes, and the
blocks `openapi_contracts` (contracts, signature requests) builds on. The bodies say exactly
what `app.json_input` reads (types, bounds, no unknown member); what no schema can say (a
SIREN's key, a client that exists) is a 422 or a 404 with the field's path."""

from __future__ import annotations

from typing import Any

from app.archive.openapi_parts import (
    CLIENT_ID,
    DATE,
    ID,
    MULTILINE_TEXT,
    NOT_FOUND,
    SINGLE_LINE_BANNED,
    STAMP,
    closed,
    json_body,
    operation,
    path_id,
    problem,
    query,
    read_one,
    ref,
)
from app.clients import schemas as clients
from app.idempotency.guard import HEADER
from app.json_input import DECIMAL_PATTERN
from app.pricing.discounts import DiscountKind
from app.pricing.problems import MAX_DESIGNATION, MAX_UNIT
from app.quotes import schemas as quotes
from app.quotes.commercial_terms import BillingPeriod, CommitmentPlan, PaymentMethod
from app.quotes.rules import MAX_LINES, MAX_PARTICULAR_TERMS

_B = SINGLE_LINE_BANNED
LINE = f"^[^{_B}]*$"
FILLED = f"^[^{_B}]*[^{_B}\\s][^{_B}]*$"
"""A single line with at least one character that is not a space (a required text)."""
_MULTILINE_BANNED = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"
MULTILINE_FILLED = f"^[^{_MULTILINE_BANNED}]*[^\\s{_MULTILINE_BANNED}][^{_MULTILINE_BANNED}]*$"
"""A multi-line text (TAB, LF, CR allowed) with at least one character that is not a space."""
DECIMAL = {
    "type": "string",
    "pattern": DECIMAL_PATTERN,
    "description": 'Décimal en chaîne : "12.50".',
}


def text(max_length: int, *, required: bool = False) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, "pattern": FILLED if required else LINE}


IDEMPOTENCY_KEY = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
    "description": "Rejouer une requête sans double effet : la même clé et le même corps dans "
    "les 24 h rendent la première réponse (en-tête `Idempotent-Replayed: true`) ; la même clé "
    "avec une autre requête : 409.",
}
BAD_KEY = problem("En-tête Idempotency-Key invalide (1 à 255 caractères ASCII imprimables).")
INVALID = problem(
    "Corps refusé : `errors` liste chaque problème (`field` : chemin dans le corps, "
    "ex. `lines[2].quantity` ; `message`)."
)
CONFLICT = problem(
    "L'état ne permet pas l'opération, ou la clé d'idempotence a servi pour une autre "
    "requête (ou sa première requête est encore en cours)."
)


def _discount() -> dict[str, Any]:
    return closed(
        {"kind": {"type": "string", "enum": [k.value for k in DiscountKind]}, "value": DECIMAL}
    )


CLIENT_PROPERTIES = {
    name: text(limit, required=name in clients.REQUIRED) for name, limit in clients.LIMITS.items()
}
CLIENT_PROPERTIES["signer_title"] = {
    **CLIENT_PROPERTIES["signer_title"],
    "description": "Qualité du signataire (« Présidente », « Gérant »…), facultative, imprimée "
    "telle que saisie après son nom sur les contrats.",
}
CLIENT_PROPERTIES[clients.CONFIRM] = {
    "type": "boolean",
    "description": "Créer un client de plus avec un SIREN déjà connu (sinon 409).",
}
QUOTE_LINE = closed(
    {
        "product": {**text(quotes.MAX_CODE), "description": "Code d'un produit du catalogue."},
        "designation": text(MAX_DESIGNATION),
        "quantity": DECIMAL,
        "unit": text(MAX_UNIT),
        "unit_price": DECIMAL,
        "vat_rate": DECIMAL,
        "discount": _discount(),
    },
    ["quantity"],
)
TERMS = closed(
    {
        "plan": {"type": "string", "enum": [p.value for p in CommitmentPlan]},
        "commitment_months": {"type": "integer", "minimum": 0, "maximum": 9999},
        "billing_period": {"type": "string", "enum": [b.value for b in BillingPeriod]},
        "payment_method": {"type": "string", "enum": [p.value for p in PaymentMethod]},
        "payment_terms_days": {"type": "integer", "minimum": 0, "maximum": 9999},
        "tacit_renewal": {"type": "boolean"},
        "notice_months": {"type": "integer", "minimum": 0, "maximum": 9999},
    }
)
QUOTE_BODY = closed(
    {
        "client_id": ID,
        "lines": {"type": "array", "minItems": 1, "maxItems": MAX_LINES, "items": QUOTE_LINE},
        "particular_terms": {
            "type": "string",
            "maxLength": MAX_PARTICULAR_TERMS,
            "pattern": MULTILINE_TEXT,
        },
        "valid_until": DATE,
        "global_discount": _discount(),
        "terms": TERMS,
    },
    ["client_id", "lines"],
)
SCHEMAS: dict[str, Any] = {
    "Client": {
        "type": "object",
        "required": [*clients.LIMITS, "id", "status", "created_at", "links"],
        "properties": {
            "id": {"type": "integer"},
            **{name: {"type": "string"} for name in clients.LIMITS},
            "vat_number": {"type": "string", "nullable": True},
            "signer_title": {"type": "string", "nullable": True},
            "status": {"type": "string", "enum": ["active", "terminated"]},
            "created_at": STAMP,
            "links": {"type": "object"},
        },
    },
    "ClientDuplicate": {
        "allOf": [
            ref("Problem"),
            {
                "type": "object",
                "description": "Quand un client a déjà ce SIREN (ou ce numéro de TVA) : "
                "ses membres, pour le désigner sans lire `detail`.",
                "properties": {
                    "client_id": {
                        "type": "integer",
                        "description": "Le client qui a déjà ce SIREN (le plus ancien).",
                    },
                    "client_ids": {"type": "array", "items": {"type": "integer"}},
                    "links": {
                        "type": "object",
                        "required": ["client"],
                        "properties": {
                            "client": {
                                "type": "string",
                                "description": "`/api/v1/clients/{client_id}`.",
                            }
                        },
                    },
                },
            },
        ],
    },
}


def write(
    summary: str,
    responses: dict[str, Any],
    *,
    body: dict[str, Any],
    body_required: bool = True,
    parameters: list[dict[str, Any]] | None = None,
    description: str = "",
) -> dict[str, Any]:
    found = operation(
        summary,
        "write",
        {"400": BAD_KEY, "409": CONFLICT, "422": INVALID, **responses},
        parameters=[*(parameters or []), IDEMPOTENCY_KEY],
        body=body,
        description=description,
    )
    found["requestBody"]["required"] = body_required
    return found


QUOTE_ID = path_id("quote_id", "Identifiant du devis")

# A client's revision as an HTTP validator (app/clients/api.py): a CRM that sends it back in
# If-Match cannot overwrite a correction made meanwhile; one that does not still can, as before.
REVISION_TAG = {
    "ETag": {
        "description": 'La révision de la fiche, par exemple `"3"` : à renvoyer dans '
        "`If-Match` pour corriger sans écraser une correction faite entre-temps.",
        "schema": {"type": "string"},
    }
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "L'`ETag` lu avec la fiche. S'il n'est plus celui de la fiche : 412, rien "
    "n'est écrit. Absent (ou `*`) : la correction s'applique sans ce contrôle.",
}


PATHS: dict[str, Any] = {
    "/clients": {
        "get": operation(
            "Trouver un client par SIREN ou numéro de TVA",
            "read",
            {
                "200": json_body(
                    {"type": "array", "items": ref("Client")},
                    "Les clients qui ont ce SIREN (ou ce numéro de TVA), du plus ancien au "
                    "plus récent ; une liste vide quand il n'y en a aucun.",
                ),
                "422": INVALID,
            },
            parameters=[
                query(
                    "siren",
                    {"type": "string", "pattern": clients.SIREN_PATTERN},
                    "SIREN : 9 chiffres, clé de Luhn juste (vide : 422, « Le SIREN recherché "
                    "est vide. »).",
                ),
                query(
                    "vat_number",
                    {"type": "string", "pattern": clients.VAT_PATTERN},
                    "Numéro de TVA intracommunautaire (préfixe du pays, clé juste).",
                ),
            ],
            description="Un seul des deux paramètres, obligatoire : pas de liste de tous "
            "les clients. Un SIREN ou un numéro de TVA mal formé, un paramètre inconnu ou "
            "absent : 422, chaque problème dans `errors`.",
        ),
        "post": write(
            "Créer un client",
            {
                "201": json_body(ref("Client"), "Le client créé (`Location`)."),
                "409": {
                    "description": "Un client a déjà ce SIREN (ou ce numéro de TVA) : "
                    "`client_id` et `links.client` le désignent (`confirm_duplicate` pour en "
                    "créer un autre). Ou la clé d'idempotence a servi pour une autre requête.",
                    "content": {"application/problem+json": {"schema": ref("ClientDuplicate")}},
                },
            },
            body=closed(CLIENT_PROPERTIES, list(clients.REQUIRED)),
            description="Mêmes contrôles que le formulaire : SIREN (clé de Luhn), TVA "
            "intracommunautaire, code postal du pays, caractères de contrôle refusés.",
        ),
    },
    "/clients/{client_id}": {
        **read_one("Un client", ref("Client"), "Le client.", CLIENT_ID, headers=REVISION_TAG),
        "patch": operation(
            "Corriger un client",
            "write",
            {
                "200": json_body(ref("Client"), "Le client corrigé.") | {"headers": REVISION_TAG},
                "404": NOT_FOUND,
                "409": {
                    "description": "Client résilié, ou SIREN d'un autre client non confirmé "
                    "(`client_id` et `links.client` désignent cet autre client).",
                    "content": {"application/problem+json": {"schema": ref("ClientDuplicate")}},
                },
                "412": problem(
                    "`If-Match` ne désigne plus la révision de la fiche : quelqu'un l'a "
                    "corrigée entre-temps (`revision` : la révision actuelle). Relire, puis "
                    "corriger."
                ),
                "422": INVALID,
            },
            parameters=[CLIENT_ID, IF_MATCH],
            body=closed(
                {name: text(limit) for name, limit in clients.LIMITS.items()}
                | {clients.CONFIRM: CLIENT_PROPERTIES[clients.CONFIRM]}
            ),
            description="Les membres absents gardent leur valeur ; mêmes contrôles qu'à la "
            "création. Pour ne pas écraser une correction faite entre-temps (un commercial sur "
            "la page « Modifier »), renvoyer dans `If-Match` l'`ETag` du GET.",
        ),
    },
    "/quotes": {
        "post": write(
            "Créer un devis",
            {
                "201": json_body({"type": "object"}, "Le devis, comme GET /quotes/{id}."),
                "404": problem("Client introuvable."),
            },
            body=QUOTE_BODY,
            description="Lignes du catalogue (`product` : code ; désignation, unité et prix "
            "repris du produit s'ils sont omis, taux de TVA du produit) ou libres "
            "(`designation`, `unit_price`, `vat_rate` requis).",
        )
    },
}
