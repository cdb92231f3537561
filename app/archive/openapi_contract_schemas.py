"""The components of the write API's contracts and signature requests in the OpenAPI
description: a contract version, a contract's generation and a signature request, as the API
answers them (`ref("ContractVersion")`…). The operations are in `openapi_contracts`."""

from __future__ import annotations

from typing import Any

from app.archive.openapi_parts import (
    SHA256,
    STAMP,
    STAMP_OR_NULL,
    closed,
    ref,
    required_object,
    strings_object,
)
from app.contracts.models import GenerationStatus, VersionStatus
from app.signatures.models import RequestStatus, SignerStatus


def printed_person(description: str) -> dict[str, Any]:
    """A person printed on a version's signature page: name, address and capacity."""
    return {
        **closed(
            {
                "name": {"type": "string"},
                "email": {"type": "string"},
                "title": {"type": "string", "nullable": True},
            }
        ),
        "required": ["name", "email", "title"],
        "description": description,
    }


SCHEMAS: dict[str, Any] = {
    "ContractVersion": required_object(
        {
            "contract_id": {"type": "integer"},
            "number": {"type": "string"},
            "client_id": {"type": "integer"},
            "quote_id": {"type": "integer", "nullable": True},
            "version": {"type": "integer"},
            "status": {"type": "string"},
            "cgv_version": {"type": "string"},
            "document_id": {"type": "integer"},
            "sha256": SHA256,
            "created_at": STAMP,
            "signer": printed_person(
                "Le signataire du client imprimé sur la version : celui qui sera invité à "
                "signer, et sa qualité imprimée (null : aucune)."
            ),
            "countersigner": {
                **printed_person(
                    "Le contresignataire du fournisseur imprimé sur la version : celui qui sera "
                    "invité à contresigner, et sa qualité imprimée (null : aucune) ; null quand "
                    "la version n'a pas de contresignature."
                ),
                "nullable": True,
            },
            "links": strings_object("document", "content", "signature_requests"),
        }
    ),
    "Contract": required_object(
        {
            "id": {"type": "integer"},
            "number": {"type": "string"},
            "client_id": {"type": "integer"},
            "quote_id": {"type": "integer", "description": "Le devis d'origine (version 1)."},
            "created_at": STAMP,
            "status": {
                "type": "string",
                "enum": [s.value for s in VersionStatus],
                "description": "Celui de la dernière version.",
            },
            "latest_version": {"type": "integer"},
            "versions": {
                "type": "array",
                "items": ref("ContractVersion"),
                "description": "Toutes les versions, la dernière en dernier.",
            },
            "signature_requests": {
                "type": "array",
                "description": "Les demandes de signature, la plus récente d'abord (le détail "
                "de chacune : `links.self`).",
                "items": required_object(
                    {
                        "id": {"type": "integer"},
                        "version": {"type": "integer"},
                        "status": {"type": "string", "enum": [s.value for s in RequestStatus]},
                        "created_at": STAMP,
                        "links": required_object(
                            {
                                "self": {"type": "string"},
                                "signed_document": {
                                    "type": "string",
                                    "nullable": True,
                                    "description": "Le PDF signé et scellé (null : pas "
                                    "encore scellé).",
                                },
                            }
                        ),
                    }
                ),
            },
            "links": strings_object("self", "client", "signature_requests"),
        }
    ),
    "ContractGeneration": required_object(
        {
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
            "links": required_object(
                {
                    "self": {"type": "string"},
                    "retry": {
                        "type": "string",
                        "nullable": True,
                        "description": "Échouée : POST (avec une nouvelle clé d'idempotence) "
                        "pour la relancer.",
                    },
                }
            ),
        }
    ),
    "SignatureRequest": required_object(
        {
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
            "reminder_every_days": {
                "type": "integer",
                "nullable": True,
                "description": "Relance tous les n jours (null : calendrier de l'instance).",
            },
            "reminders_sent": {
                "type": "integer",
                "description": "Relances envoyées, tous signataires confondus (automatiques "
                "et immédiates).",
            },
            "reminders_max": {
                "type": "integer",
                "description": "Relances au plus par signataire et par demande "
                "(`PARAPHE_REMINDER_MAX`, 3 par défaut).",
            },
            "next_reminder_at": {
                **STAMP_OR_NULL,
                "description": "La prochaine relance due (la plus proche des signataires) : "
                "envoyée par le premier passage de la tâche de relance (chaque jour à 8 h) "
                "à partir de ce moment ; jamais moins de 24 heures après l'invitation ou le "
                "dernier lien envoyé. null : aucune prévue (maximum atteint, signataires "
                "ayant signé ou refusé, demande terminée ou expirant avant).",
            },
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
                        "next_reminder_at": {
                            **STAMP_OR_NULL,
                            "description": "La prochaine relance due à ce signataire ; null : "
                            "aucune prévue.",
                        },
                    },
                },
            },
            "links": required_object(
                {
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
                }
            ),
        }
    ),
}
