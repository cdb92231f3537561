"""The write API's contracts and signature requests in the OpenAPI description (scope write):
a contract's generation (version 1 from a quote, version n+1 of a contract), its follow-up,
the signature request sent, reminded, cancelled. Built from `openapi_write`'s blocks; the
answers' components are in `openapi_contract_schemas`."""

from __future__ import annotations

from typing import Any

from app.archive.openapi_parts import (
    ID,
    MULTILINE_TEXT,
    NOT_FOUND,
    closed,
    json_body,
    path_id,
    problem,
    read_one,
    ref,
    required_object,
)
from app.archive.openapi_write import MULTILINE_FILLED, QUOTE_ID, text, write
from app.clients.services import MAX_SIGNER_TITLE
from app.contracts import schemas as contracts
from app.contracts.checks import MAX_REASON
from app.contracts.printing import MAX_FREE_TEXT
from app.signatures import schemas as signatures

PRINTED = {
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
}
"""What a version prints beyond its quote: the same members for version 1 and version n+1."""
PERSON = closed(
    {"name": text(200, required=True), "email": text(254, required=True)}, ["name", "email"]
)
CLIENT_SIGNER = {
    **closed(
        {**PERSON["properties"], "title": text(MAX_SIGNER_TITLE)},
        ["name", "email"],
    ),
    "description": "Qui signe pour le client, imprimé sur la page de signature et seul invité "
    "à signer, et sa qualité (`title`, facultative, imprimée après son nom) ; défaut : "
    "`signer_name`, `signer_email` et `signer_title` de la fiche client au moment du rendu. "
    "Mêmes contrôles que le formulaire client.",
}
GENERATION_BODY = closed({**PRINTED, "signer": CLIENT_SIGNER, "countersigner": PERSON})
NEW_VERSION_BODY = closed(
    {
        "reason": {
            "type": "string",
            "maxLength": MAX_REASON,
            "pattern": MULTILINE_FILLED,
            "description": "Motif de la nouvelle version (enregistré avec elle, journalisé).",
        },
        **PRINTED,
        "quote_id": {**ID, "description": "Un devis révisé du même client (facultatif)."},
        "based_on": {
            "type": "integer",
            "minimum": 1,
            "maximum": contracts.MAX_VERSION,
            "description": "La dernière version que le CRM connaît : une version créée depuis "
            "répond 409 plutôt que d'en faire une de plus.",
        },
        "signer": CLIENT_SIGNER,
    },
    ["reason"],
)
REMIND_BODY = closed({})
SEND_BODY = closed(
    {
        "version": {"type": "integer", "minimum": 1, "maximum": 9999},
        "order": {"type": "string", "enum": list(signatures.ORDERS)},
        "expires_in_days": {
            "type": "integer",
            "minimum": 1,
            "maximum": signatures.MAX_EXPIRY_DAYS,
            "description": "Durée de la demande et des liens (défaut : réglage de l'instance).",
        },
        "reminder_every_days": {
            "type": "integer",
            "minimum": 1,
            "maximum": signatures.MAX_REMINDER_EVERY_DAYS,
            "nullable": True,
            "description": "Une relance automatique tous les n jours après l'invitation, tant "
            "que le signataire n'a pas signé (absent ou null : le calendrier de l'instance, "
            "`PARAPHE_REMINDER_DAYS`).",
        },
    }
)
CANCEL_BODY = closed(
    {
        "reason": {
            "type": "string",
            "maxLength": signatures.MAX_REASON,
            "pattern": MULTILINE_FILLED,
        }
    },
    ["reason"],
)

CONTRACT_ID = path_id("contract_id", "Identifiant du contrat")
GENERATION_ID = path_id("generation_id", "Identifiant de la génération de contrat")
SIGNATURE_REQUEST_ID = path_id("request_id", "Identifiant de la demande de signature")

SIGNERS = (
    "Signataires : ceux imprimés sur la page de signature de la version, choisis à sa "
    "génération et enregistrés avec elle — le signataire du client (`signer` du corps de la "
    "génération, sinon `signer_name` et `signer_email` de la fiche client au moment du rendu ; "
    "corriger la fiche ensuite ne change pas qui est invité à signer cette version : générez "
    "une nouvelle version) et le contresignataire du fournisseur (le signataire configuré de "
    "l'instance, sinon `countersigner` du corps de la génération de la version 1 ; une "
    "version n+1 reprend ce choix)."
)


def _generation(
    summary: str,
    missing: str,
    *,
    body: dict[str, Any],
    parameter: dict[str, Any],
    description: str,
    body_required: bool,
) -> dict[str, Any]:
    """A version asked for (202): rendered by a job, followed at `/contract-generations/{id}`."""
    answered = json_body(
        ref("ContractGeneration"),
        "La génération demandée (`Location` : à suivre jusqu'à `done` ou `failed`, ou "
        "attendre le webhook `contract.generated`).",
    )
    return write(
        summary,
        {"202": answered, "404": problem(missing)},
        body=body,
        body_required=body_required,
        parameters=[parameter],
        description=f"{description}\n\n{SIGNERS}",
    )


def _on_request(
    summary: str,
    answered: tuple[str, str],
    *,
    body: dict[str, Any],
    parameter: dict[str, Any],
    description: str,
    body_required: bool = True,
    more: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A write answered with the signature request as it stands after it."""
    status, said = answered
    return write(
        summary,
        {status: json_body(ref("SignatureRequest"), said), "404": NOT_FOUND, **(more or {})},
        body=body,
        body_required=body_required,
        parameters=[parameter],
        description=description,
    )


PATHS: dict[str, Any] = {
    "/quotes/{quote_id}/contract": {
        "post": _generation(
            "Générer le contrat d'un devis",
            "Devis introuvable.",
            body=GENERATION_BODY,
            body_required=False,
            parameter=QUOTE_ID,
            description="Clauses de la bibliothèque et conditions particulières libres, "
            "vérifiées tout de suite ; le PDF est rendu en tâche de fond. Redemandée pendant "
            "le rendu : la même génération. Un devis ne donne qu'un contrat (409 ensuite).",
        )
    },
    "/contracts/{contract_id}/versions": {
        "post": _generation(
            "Générer la version suivante d'un contrat",
            "Contrat introuvable.",
            body=NEW_VERSION_BODY,
            body_required=True,
            parameter=CONTRACT_ID,
            description="La « nouvelle version » de la page du contrat, par la même tâche : "
            "motif obligatoire, clauses et conditions particulières vérifiées tout de suite, "
            "un devis révisé du même client en option (`quote_id`, 422 sinon). Redemandée "
            "pendant le rendu : la même génération. 409 quand la dernière version est en "
            "cours de signature, ou quand une version a été créée après `based_on`.",
        )
    },
    "/contract-generations/{generation_id}": read_one(
        "Une génération de contrat",
        ref("ContractGeneration"),
        "État, version une fois générée.",
        GENERATION_ID,
    ),
    "/contracts/{contract_id}": read_one(
        "Un contrat",
        ref("Contract"),
        "Ses versions et ses demandes de signature : où en est l'affaire, sans rejouer les "
        "webhooks.",
        CONTRACT_ID,
    ),
    "/contracts/{contract_id}/signature-requests": {
        **read_one(
            "Les demandes de signature d'un contrat",
            required_object({"items": {"type": "array", "items": ref("SignatureRequest")}}),
            "Toutes, la plus récente d'abord, chacune entière (signataires, relances, liens).",
            CONTRACT_ID,
        ),
        "post": _on_request(
            "Envoyer un contrat pour signature",
            ("201", "La demande, signataires avisés."),
            body=SEND_BODY,
            body_required=False,
            parameter=CONTRACT_ID,
            more={
                "404": problem("Contrat ou version introuvable."),
                "503": problem("Certification impossible (horodatage) ou document altéré."),
            },
            description=f"{SIGNERS} Le client signe d'abord, puis le fournisseur — ou en "
            "même temps : `order` = `parallel`. Échéance des liens : réglage de l'instance, "
            "sauf `expires_in_days`. Relances automatiques : tous les `reminder_every_days` "
            "jours après l'invitation, sinon le calendrier de l'instance "
            "(`PARAPHE_REMINDER_DAYS`, jours après l'invitation), le même que pour un envoi "
            "depuis l'application ; une relance immédiate : "
            "`POST /signature-requests/{request_id}/reminders`.",
        ),
    },
    "/signature-requests/{request_id}": read_one(
        "Une demande de signature",
        ref("SignatureRequest"),
        "État, signataires, liens.",
        SIGNATURE_REQUEST_ID,
    ),
    "/signature-requests/{request_id}/reminders": {
        "post": _on_request(
            "Relancer maintenant les signataires attendus",
            ("200", "La demande ; `reminders_sent` compte la relance de chaque signataire."),
            body=REMIND_BODY,
            body_required=False,
            parameter=SIGNATURE_REQUEST_ID,
            description="Chaque signataire attendu (groupe en cours, pas encore signé) reçoit "
            "un rappel avec un nouveau lien (l'ancien cesse de marcher), au plus une fois par "
            "24 heures après son dernier lien ; pas celui qui signe en ce moment (lien ouvert "
            "ou code demandé depuis moins de 12 heures) ni celui bloqué par des codes erronés "
            "(renvoyez alors la demande depuis l'application). La relance compte dans le "
            "calendrier automatique et dans le maximum par signataire "
            "(`PARAPHE_REMINDER_MAX`). 409 si la demande n'est plus en cours ou si personne ne "
            "peut être relancé maintenant (maximum atteint compris).",
        )
    },
    "/signature-requests/{request_id}/cancel": {
        "post": _on_request(
            "Annuler une demande de signature",
            ("200", "La demande annulée."),
            body=CANCEL_BODY,
            parameter=SIGNATURE_REQUEST_ID,
            description="Seule une demande en cours s'annule (409 sinon) ; chaque partie "
            "est avisée.",
        )
    },
}
