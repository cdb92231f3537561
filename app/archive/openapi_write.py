"""The write API's part of the OpenAPI description (scope write): clients, quotes, contracts
and signature requests. The bodies say exactly what `app.json_input` reads (types, bounds,
no unknown member); what no schema can say (a SIREN's key, a client that exists) is a 422
or a 404 with the field's path."""

from __future__ import annotations

from typing import Any

from app.archive.openapi_parts import (
    CLIENT_ID,
    DATE,
    MULTILINE_TEXT,
    NOT_FOUND,
    SINGLE_LINE_BANNED,
    json_body,
    operation,
    path_id,
    problem,
    ref,
)
from app.clients import schemas as clients
from app.contracts import schemas as contracts
from app.contracts.models import GenerationStatus
from app.contracts.printing import MAX_FREE_TEXT
from app.idempotency.guard import HEADER
from app.json_input import DECIMAL_PATTERN
from app.pricing.discounts import DiscountKind
from app.pricing.problems import MAX_DESIGNATION, MAX_UNIT
from app.quotes import schemas as quotes
from app.quotes.commercial_terms import BillingPeriod, CommitmentPlan, PaymentMethod
from app.quotes.rules import MAX_LINES, MAX_PARTICULAR_TERMS
from app.signatures import schemas as signatures
from app.signatures.models import RequestStatus, SignerStatus

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
ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
STAMP = {"type": "string", "format": "date-time"}
STAMP_OR_NULL = {"type": "string", "format": "date-time", "nullable": True}


def _text(max_length: int, *, required: bool = False) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, "pattern": FILLED if required else LINE}


def _closed(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
    if required:
        shape["required"] = required
    return shape


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
    return _closed(
        {"kind": {"type": "string", "enum": [k.value for k in DiscountKind]}, "value": DECIMAL}
    )


CLIENT_PROPERTIES = {
    name: _text(limit, required=name in clients.REQUIRED) for name, limit in clients.LIMITS.items()
}
CLIENT_PROPERTIES[clients.CONFIRM] = {
    "type": "boolean",
    "description": "Créer un client de plus avec un SIREN déjà connu (sinon 409).",
}
QUOTE_LINE = _closed(
    {
        "product": {**_text(quotes.MAX_CODE), "description": "Code d'un produit du catalogue."},
        "designation": _text(MAX_DESIGNATION),
        "quantity": DECIMAL,
        "unit": _text(MAX_UNIT),
        "unit_price": DECIMAL,
        "vat_rate": DECIMAL,
        "discount": _discount(),
    },
    ["quantity"],
)
TERMS = _closed(
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
QUOTE_BODY = _closed(
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
GENERATION_BODY = _closed(
    {
        "clause_versions": {
            "type": "array",
            "maxItems": contracts.MAX_CLAUSES,
            "uniqueItems": True,
            "items": ID,
            "description": "Versions de clauses de la bibliothèque, dans l'ordre.",
        },
        "free_text": {
            "type": "string",
            "maxLength": MAX_FREE_TEXT,
            "pattern": MULTILINE_TEXT,
        },
        "countersigner": _closed(
            {"name": _text(200, required=True), "email": _text(254, required=True)},
            ["name", "email"],
        ),
    }
)
SEND_BODY = _closed(
    {
        "version": {"type": "integer", "minimum": 1, "maximum": 9999},
        "order": {"type": "string", "enum": list(signatures.ORDERS)},
        "expires_in_days": {
            "type": "integer",
            "minimum": 1,
            "maximum": signatures.MAX_EXPIRY_DAYS,
            "description": "Durée de la demande et des liens (défaut : réglage de l'instance).",
        },
    }
)
CANCEL_BODY = _closed(
    {
        "reason": {
            "type": "string",
            "maxLength": signatures.MAX_REASON,
            "pattern": MULTILINE_FILLED,
        }
    },
    ["reason"],
)

SCHEMAS: dict[str, Any] = {
    "Client": {
        "type": "object",
        "required": [*clients.LIMITS, "id", "status", "created_at", "links"],
        "properties": {
            "id": {"type": "integer"},
            **{name: {"type": "string"} for name in clients.LIMITS},
            "vat_number": {"type": "string", "nullable": True},
            "status": {"type": "string", "enum": ["active", "terminated"]},
            "created_at": STAMP,
            "links": {"type": "object"},
        },
    },
    "ContractVersion": {
        "type": "object",
        "required": [
            "contract_id",
            "number",
            "client_id",
            "quote_id",
            "version",
            "status",
            "cgv_version",
            "document_id",
            "sha256",
            "created_at",
            "links",
        ],
        "properties": {
            "contract_id": {"type": "integer"},
            "number": {"type": "string"},
            "client_id": {"type": "integer"},
            "quote_id": {"type": "integer", "nullable": True},
            "version": {"type": "integer"},
            "status": {"type": "string"},
            "cgv_version": {"type": "string"},
            "document_id": {"type": "integer"},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "created_at": STAMP,
            "links": {
                "type": "object",
                "required": ["document", "content", "signature_requests"],
                "properties": {
                    "document": {"type": "string"},
                    "content": {"type": "string"},
                    "signature_requests": {"type": "string"},
                },
            },
        },
    },
    "ContractGeneration": {
        "type": "object",
        "required": [
            "id",
            "status",
            "message",
            "error",
            "quote_id",
            "contract_id",
            "requested_at",
            "finished_at",
            "version",
            "links",
        ],
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": [s.value for s in GenerationStatus]},
            "message": {"type": "string", "description": "Où en est la génération, en français."},
            "error": {
                "type": "string",
                "nullable": True,
                "description": "Échouée : pourquoi, et que faire (en français).",
            },
            "quote_id": {"type": "integer", "nullable": True},
            "contract_id": {
                "type": "integer",
                "nullable": True,
                "description": "Le contrat, une fois la version générée.",
            },
            "requested_at": STAMP,
            "finished_at": STAMP_OR_NULL,
            "version": {
                "allOf": [ref("ContractVersion")],
                "nullable": True,
                "description": "La version générée (ses liens : PDF, demandes de signature).",
            },
            "links": {
                "type": "object",
                "required": ["self", "retry"],
                "properties": {
                    "self": {"type": "string"},
                    "retry": {
                        "type": "string",
                        "nullable": True,
                        "description": "Échouée : POST (avec une nouvelle clé d'idempotence) "
                        "pour la relancer.",
                    },
                },
            },
        },
    },
    "SignatureRequest": {
        "type": "object",
        "required": [
            "id",
            "status",
            "contract_id",
            "contract_number",
            "version",
            "created_at",
            "expires_at",
            "completed_at",
            "sealed_at",
            "closed_reason",
            "signers",
            "links",
        ],
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": [s.value for s in RequestStatus]},
            "contract_id": {"type": "integer"},
            "contract_number": {"type": "string"},
            "version": {"type": "integer"},
            "created_at": STAMP,
            "expires_at": STAMP_OR_NULL,
            "completed_at": STAMP_OR_NULL,
            "sealed_at": STAMP_OR_NULL,
            "closed_reason": {"type": "string", "nullable": True},
            "signers": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["position", "group", "party", "name", "email", "status"],
                    "properties": {
                        "position": {"type": "integer"},
                        "group": {"type": "integer"},
                        "party": {"type": "string", "enum": ["client", "vendor"]},
                        "role": {"type": "string"},
                        "name": {"type": "string"},
                        "email": {"type": "string"},
                        "status": {"type": "string", "enum": [s.value for s in SignerStatus]},
                        "notified_at": STAMP_OR_NULL,
                        "opened_at": STAMP_OR_NULL,
                        "signed_at": STAMP_OR_NULL,
                        "declined_at": STAMP_OR_NULL,
                        "reminders_sent": {"type": "integer"},
                    },
                },
            },
            "links": {
                "type": "object",
                "required": ["self", "signed_document", "evidence"],
                "properties": {
                    "self": {"type": "string"},
                    "signed_document": {
                        "type": "string",
                        "nullable": True,
                        "description": "Le PDF signé et scellé (GET, portée read), une fois "
                        "la demande terminée.",
                    },
                    "evidence": {
                        "type": "string",
                        "nullable": True,
                        "description": "Le fichier de preuve (GET, portée read).",
                    },
                },
            },
        },
    },
}


def _write(
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
        {**responses, "400": BAD_KEY, "409": CONFLICT, "422": INVALID},
        parameters=[*(parameters or []), IDEMPOTENCY_KEY],
        body=body,
        description=description,
    )
    found["requestBody"]["required"] = body_required
    return found


QUOTE_ID = path_id("quote_id", "Identifiant du devis")
CONTRACT_ID = path_id("contract_id", "Identifiant du contrat")
GENERATION_ID = path_id("generation_id", "Identifiant de la génération de contrat")
SIGNATURE_REQUEST_ID = path_id("request_id", "Identifiant de la demande de signature")

PATHS: dict[str, Any] = {
    "/clients": {
        "post": _write(
            "Créer un client",
            {"201": json_body(ref("Client"), "Le client créé (`Location`).")},
            body=_closed(CLIENT_PROPERTIES, list(clients.REQUIRED)),
            description="Mêmes contrôles que le formulaire : SIREN (clé de Luhn), TVA "
            "intracommunautaire, code postal du pays, caractères de contrôle refusés.",
        )
    },
    "/clients/{client_id}": {
        "get": operation(
            "Un client",
            "read",
            {"200": json_body(ref("Client"), "Le client."), "404": NOT_FOUND},
            parameters=[CLIENT_ID],
        ),
        "patch": operation(
            "Corriger un client",
            "write",
            {
                "200": json_body(ref("Client"), "Le client corrigé."),
                "404": NOT_FOUND,
                "409": problem("Client résilié, ou SIREN d'un autre client non confirmé."),
                "422": INVALID,
            },
            parameters=[CLIENT_ID],
            body=_closed(
                {name: _text(limit) for name, limit in clients.LIMITS.items()}
                | {clients.CONFIRM: CLIENT_PROPERTIES[clients.CONFIRM]}
            ),
            description="Les membres absents gardent leur valeur ; mêmes contrôles qu'à la "
            "création.",
        ),
    },
    "/quotes": {
        "post": _write(
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
    "/quotes/{quote_id}/contract": {
        "post": _write(
            "Générer le contrat d'un devis",
            {
                "202": json_body(
                    ref("ContractGeneration"),
                    "La génération demandée (`Location` : à suivre jusqu'à `done` ou "
                    "`failed`, ou attendre le webhook `contract.generated`).",
                ),
                "404": problem("Devis introuvable."),
            },
            body=GENERATION_BODY,
            body_required=False,
            parameters=[QUOTE_ID],
            description="Clauses de la bibliothèque et conditions particulières libres, "
            "vérifiées tout de suite ; le PDF est rendu en tâche de fond. Redemandée pendant "
            "le rendu : la même génération. Un devis ne donne qu'un contrat (409 ensuite).",
        )
    },
    "/contract-generations/{generation_id}": {
        "get": operation(
            "Une génération de contrat",
            "read",
            {
                "200": json_body(ref("ContractGeneration"), "État, version une fois générée."),
                "404": NOT_FOUND,
            },
            parameters=[GENERATION_ID],
        )
    },
    "/contracts/{contract_id}/signature-requests": {
        "post": _write(
            "Envoyer un contrat pour signature",
            {
                "201": json_body(ref("SignatureRequest"), "La demande, signataires avisés."),
                "404": problem("Contrat ou version introuvable."),
                "503": problem("Certification impossible (horodatage) ou document altéré."),
            },
            body=SEND_BODY,
            body_required=False,
            parameters=[CONTRACT_ID],
            description="Signataires : ceux imprimés sur la page de signature de la version "
            "(le signataire du client, puis la contresignature du fournisseur — ou en même "
            "temps : `order` = `parallel`). Échéance des liens et relances : réglages de "
            "l'instance, sauf `expires_in_days`.",
        )
    },
    "/signature-requests/{request_id}": {
        "get": operation(
            "Une demande de signature",
            "read",
            {
                "200": json_body(ref("SignatureRequest"), "État, signataires, liens."),
                "404": NOT_FOUND,
            },
            parameters=[SIGNATURE_REQUEST_ID],
        )
    },
    "/signature-requests/{request_id}/cancel": {
        "post": _write(
            "Annuler une demande de signature",
            {
                "200": json_body(ref("SignatureRequest"), "La demande annulée."),
                "404": NOT_FOUND,
            },
            body=CANCEL_BODY,
            parameters=[SIGNATURE_REQUEST_ID],
            description="Seule une demande en cours s'annule (409 sinon) ; chaque partie "
            "est avisée.",
        )
    },
}
