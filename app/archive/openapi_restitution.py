"""The client's end of relationship in the OpenAPI description (scope restitution): the
termination recorded, the restitution archive asked for, followed and downloaded, the client
invited to ask for it."""

from __future__ import annotations

from typing import Any

from app.archive.openapi_parts import (
    CLIENT_ID,
    DATE,
    INTEGRITY,
    INVALID,
    MULTILINE_TEXT,
    NOT_FOUND,
    REQUEST_ID,
    closed,
    json_body,
    on_one,
    operation,
    problem,
    ref,
)

PATHS: dict[str, Any] = {
    "/clients/{client_id}/termination": {
        "post": operation(
            "Enregistrer la résiliation d'un client",
            "restitution",
            {
                "201": json_body(
                    ref("Termination"), "Résiliation enregistrée ; fins de conservation datées."
                ),
                "404": NOT_FOUND,
                "409": problem("Résiliation déjà enregistrée."),
                "422": INVALID,
            },
            parameters=[CLIENT_ID],
            body=closed(
                {
                    "terminated_on": DATE,
                    "reason": {"type": "string", "maxLength": 2000, "pattern": MULTILINE_TEXT},
                },
                ["terminated_on"],
            ),
        )
    },
    "/clients/{client_id}/restitution": {
        "get": operation(
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
                "404": problem(
                    "Client inconnu, ou aucune archive encore produite : la demander par un "
                    "POST sur la même adresse."
                ),
                "503": INTEGRITY,
            },
            parameters=[CLIENT_ID],
        ),
        "post": operation(
            "Demander l'archive de restitution pour le client",
            "restitution",
            {
                "200": json_body(
                    ref("Restitution"),
                    "Les données du client n'ont pas changé depuis la dernière archive : "
                    "c'est elle qui est renvoyée ; nouveau lien de téléchargement envoyé.",
                ),
                "201": {
                    **json_body(
                        ref("Restitution"),
                        "Archive produite et archivée pendant la requête (les données ont "
                        "changé entre la vérification et la production) ; lien de "
                        "téléchargement expirant envoyé au contact du client.",
                    ),
                    "headers": {
                        "Location": {
                            "schema": {"type": "string"},
                            "description": "Adresse du document archivé.",
                        }
                    },
                },
                "202": {
                    **json_body(
                        ref("RestitutionRequest"),
                        "Aucune archive à jour : elle est produite en arrière-plan. La "
                        "ressource d'état (Location) passe de « pending » à « ready » quand "
                        "l'archive est archivée et le lien envoyé au contact du client.",
                    ),
                    "headers": {
                        "Location": {
                            "schema": {"type": "string"},
                            "description": "Adresse de la ressource d'état de la demande.",
                        }
                    },
                },
                "404": NOT_FOUND,
                "503": INTEGRITY,
            },
            parameters=[CLIENT_ID],
            description="Idempotente : tant que les données du client (documents, "
            "acceptations, journal hors restitutions) n'ont pas changé, aucune nouvelle "
            "archive n'est produite (200, tout de suite). Sinon 202 : un travail en "
            "arrière-plan la produit ; deux demandes pendant sa production donnent la même "
            "ressource d'état.",
        ),
    },
    "/restitution-requests/{request_id}": {
        "get": on_one(
            "Suivre une demande de restitution",
            "restitution",
            REQUEST_ID,
            {
                "200": json_body(
                    ref("RestitutionRequest"), "En production, prête ou en échec, et pourquoi."
                )
            },
        )
    },
    "/clients/{client_id}/restitution-invitation": {
        "post": on_one(
            "Inviter le client à demander son archive",
            "restitution",
            CLIENT_ID,
            {"201": json_body(ref("Invitation"), "Lien de demande expirant envoyé au contact.")},
        )
    },
}
