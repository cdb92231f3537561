"""The event types an endpoint can subscribe to, with what each means in French (the
administration page lists them). A type not here cannot be recorded: a typo would otherwise
create an event nobody subscribes to."""

from __future__ import annotations

EVENT_TYPES: dict[str, str] = {
    "quote.created": "Devis créé",
    "contract.generated": "Contrat généré (version 1)",
    "contract.version_created": "Nouvelle version d'un contrat",
    "signature_request.sent": "Demande de signature envoyée",
    "signer.viewed": "Un signataire a consulté le document (après son code)",
    "signer.signed": "Un signataire a signé",
    "signer.declined": "Un signataire a refusé",
    "signature_request.completed": "Demande terminée et scellée",
    "signature_request.declined": "Demande close par un refus",
    "signature_request.expired": "Demande expirée",
    "signature_request.cancelled": "Demande annulée",
    "cgv.version_published": "Nouvelle version des CGV publiée",
    "cgv.accepted": "CGV acceptées par un client",
    "invoice.issued": "Facture émise",
    "invoice.paid": "Facture entièrement payée",
    "invoice.overdue": "Facture en retard de paiement (première relance)",
    "credit_note.issued": "Avoir émis",
    "client.terminated": "Résiliation d'un client enregistrée",
    "restitution.ready": "Archive de restitution prête",
    "document.purged": "Document supprimé (fin de conservation)",
}

TEST_EVENT = "webhook.test"
"""The type of the « Envoyer un événement de test » event: sent to one endpoint only, whatever
it subscribes to."""
