"""The one table of the French words shown for the states of things: lists and pages print
`{{ thing.status|label }}`, never the stored value ("signed", "generated").

Keyed by the enum's class name and value, so that this module, below every feature, imports
none of them; `tests/unit/rendering/test_labels.py` checks that every member of each enum
named here has its label, and a missing one fails the page loudly (KeyError) rather than
showing English."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from app.messages import msg

STATUS_LABELS: Mapping[str, Mapping[str, str]] = {
    # app.clients.models
    "ClientStatus": {"active": "actif", "terminated": "résilié"},
    # app.quotes.models
    "QuoteStatus": {"draft": "brouillon", "contracted": "contrat généré"},
    # app.contracts.models
    "VersionStatus": {
        "generated": "généré",
        "sent": "envoyé pour signature",
        "signed": "signé",
        "superseded": "remplacé",
    },
    # app.signatures.models
    "RequestStatus": {
        "draft": msg("brouillon"),
        "sent": msg("envoyée"),
        "partially_signed": msg("partiellement signée"),
        "completed": msg("signée par tous"),
        "declined": msg("refusée"),
        "expired": msg("expirée"),
        "cancelled": msg("annulée"),
    },
    # app.signatures.progress: where a request stands, on the contract page (a closed
    # request is named by its status instead)
    "Stage": {
        "waiting_signatures": "envoyée, en attente des signatures",
        "sealing": "signée, scellement en cours",
        "seal_failing": "signée, échec du cachet",
        "sealed": "signée et scellée",
        "closed": "close",
    },
    "SignerStatus": {
        "pending": "en attente de son tour",
        "notified": "invité",
        "opened": "lien ouvert",
        "authenticated": "authentifié",
        "signing": "signature en cours",
        "signed": "signé",
        "declined": "a refusé",
        "expired": "expiré",
    },
    # app.job_runs.models
    "RunStatus": {
        "running": "en cours",
        "complete": "terminé",
        "retrying": "nouvel essai prévu",
        "failed": "en échec",
        "interrupted": "interrompu (arrêt du processus des travaux en arrière-plan)",
        "relaunched": "relancé",
        "dismissed": "retiré de la liste",
    },
    # app.terms.models
    "VersionKind": {"minor": "mineure", "material": "substantielle"},
    "AcceptanceMethod": {
        "contract_signature": "signature du contrat",
        "click_through": "acceptation en ligne",
        "account_creation": "création du compte",
    },
    # app.documents.models (the kinds a client's space lists)
    "DocumentKind": {
        "quote": "Devis",
        "contract": "Contrat",
        "signed_contract": "Contrat signé",
        "evidence": "Dossier de preuve",
        "cgv": "CGV",
        "invoice": "Facture",
        "credit_note": "Avoir",
        "restitution": "Archive de restitution",
        "deletion_certificate": "Certificat de suppression",
    },
    # app.mail.models
    "MailStatus": {
        "pending": "en attente d'envoi",
        "sending": "en cours d'envoi",
        "sent": "envoyé",
        "failed": "échec de l'envoi",
    },
    # app.webhooks.models
    "DeliveryStatus": {"pending": "en cours", "delivered": "livrée", "failed": "échouée"},
    "AttemptOutcome": {
        "sending": "en cours d'envoi",
        "succeeded": "acceptée",
        "failed": "échouée",
        "refused": "refusée (adresse ou protocole interdit)",
    },
    # app.invoices.models: a period's billing run asked for on the plans page
    "BillingRunStatus": {"queued": "en attente", "running": "en cours", "done": "terminé"},
}


# The kinds and roles a reader sees named (not states: the pages are checked never to show
# the stored values of the table above, and "module" or "admin" are French words too). The
# enums' ``label`` properties read this table, so that every French word for a stored value is
# here, in the one layer every feature may import.
KIND_LABELS: Mapping[str, Mapping[str, str]] = {
    # app.auth.models
    "Role": {
        "sales": "Commercial",
        "legal": "Juridique",
        "archivist": "Archiviste",
        "admin": "Administrateur",
    },
    # app.quotes.models
    "ProductKind": {
        "plan": "Abonnement",
        "module": "Module",
        "setup_fee": "Frais de mise en service",
        "training": "Formation",
    },
    # app.invoices.models
    "BillingFrequency": {"monthly": "mensuelle", "annual": "annuelle"},
    "PaymentKind": {"payment": "paiement reçu", "failed": "prélèvement rejeté"},
    "RateKind": {"ecb": msg("taux BCE"), "legal": msg("taux d'intérêt légal")},
    # app.terms.models: the wording printed in contracts and invoices (Code de commerce L441-10)
    "LateInterestRule": {
        "ecb_plus_10": msg(
            "taux d'intérêt appliqué par la Banque centrale européenne à son opération de "
            "refinancement la plus récente, majoré de 10 points de pourcentage"
        ),
        "three_times_legal": msg("trois fois le taux d'intérêt légal"),
    },
}


# The badge after « Version 2 » on the contract page (and its live update): « version » is
# feminine, while STATUS_LABELS["VersionStatus"] also follows « contrat » (lists, search).
VERSION_BADGE_LABELS: Mapping[str, str] = {
    "generated": "générée",
    "sent": "envoyée pour signature",
    "signed": "signée",
    "superseded": "remplacée",
}


def version_badge(status: StrEnum) -> str:
    """The badge of a contract version: ``VersionStatus.SIGNED`` -> ``"signée"``."""
    return VERSION_BADGE_LABELS[status.value]


def label(value: StrEnum) -> str:
    """The French label of an enum member: ``VersionStatus.SIGNED`` -> ``"signé"``,
    ``Role.LEGAL`` -> ``"Juridique"``."""
    name = type(value).__name__
    table = STATUS_LABELS.get(name) or KIND_LABELS[name]
    return table[value.value]


# The kinds of archived documents (app.documents.models.DocumentKind), as a reader names them:
# the same words as the client's space lists, read from one place.
DOCUMENT_KIND_LABELS: Mapping[str, str] = STATUS_LABELS["DocumentKind"]


# What became of an article between two CGV versions (app.terms.comparison.Status).
ARTICLE_CHANGE_LABELS: Mapping[str, str] = {
    "same": "inchangé",
    "changed": "modifié",
    "added": "ajouté",
    "removed": "supprimé",
}


# The journal's events that a salesperson follows, in French (the dashboard's recent
# activity); events absent here (logins, reads, purges) are not shown there.
EVENT_LABELS: Mapping[str, str] = {
    "client.created": "Client créé",
    "client.terminated": "Client résilié",
    "quote.created": "Devis créé",
    "contract.generated": "Contrat généré",
    "contract.version_created": "Nouvelle version du contrat",
    "signature.requested": "Envoyé pour signature",
    "signature.notified": "Signataire invité",
    "signature.opened": "Lien de signature ouvert",
    "signature.reminded": "Relance envoyée",
    "signature.resent": "Demande renvoyée",
    "signature.consented": "Consentement à la signature",
    "signature.signed": "Signature reçue",
    "signature.declined": "Signature refusée",
    "signature.expired": "Demande expirée",
    "signature.cancelled": "Demande annulée",
    "signature.sealed": "Contrat scellé",
    "cgv.accepted": "CGV acceptées",
    "invoice.issued": "Facture émise",
    "invoice.payment_recorded": "Paiement enregistré",
    "invoice.debit_failed": "Prélèvement rejeté",
    "credit_note.issued": "Avoir émis",
}


# The evidence file's events as sentences: "{who}" is the signer the event is about (or who
# acted), "{de_who}" the same after "de", elided before a vowel ("d'Élodie", `french.de`).
# An action absent here is written with `EVIDENCE_OTHER`, never as its stored key.
EVIDENCE_SENTENCES: Mapping[str, str] = {
    "signature.requested": "{who} a envoyé le contrat pour signature",
    "signature.notified": "l'invitation à signer a été envoyée à {who}",
    "signature.opened": "{who} a ouvert son lien personnel de signature",
    "signature.code_sent": "un code à usage unique a été envoyé par courriel à {who}",
    "signature.authenticated": "{who} a saisi le code à usage unique",
    "signature.code_refused": "un code erroné a été saisi sur le lien {de_who}",
    "signature.locked": "le lien {de_who} a été bloqué après trop de codes erronés",
    "signature.consented": "{who} a donné son accord et demandé la signature du document",
    "signature.signed": "{who} a signé le document",
    "signature.declined": "{who} a refusé de signer",
    "signature.reminded": "une relance a été envoyée à {who}",
    "signature.resent": "la demande a été renvoyée à {who}",
    "signature.expired": "la demande de signature a expiré",
    "signature.cancelled": "{who} a annulé la demande de signature",
    "signature.sealed": "la plateforme a apposé son cachet sur le document signé",
    "signature.evidence": "le dossier de preuve a été établi",
    "signature.revisions_purged": "les versions intermédiaires du document ont été purgées",
    "signature.revision_integrity_failed": (
        "une version intermédiaire du document a échoué au contrôle d'intégrité"
    ),
}
EVIDENCE_OTHER = "un autre événement a été inscrit au journal par {who}"

# The French name of each background job: the queue's names (`signatures.seal`…) are for
# support, not for the people who read the page. One entry per job declared with `@job` /
# `@periodic` (tests/unit/test_task_labels.py fails when one has none, or names no job). A job
# with none (a test's, an older release's run) is shown, like in the flash, by its queue name.
TASK_LABELS: Mapping[str, str] = {
    "archive.build_restitution": "Préparation d'une archive de restitution",
    "archive.purge": "Purge des données arrivées en fin de conservation",
    "audit.anchor": "Ancrage du journal d'audit",
    "backups.run": "Sauvegarde",
    "contracts.generate": "Génération du contrat",
    "contracts.generate_requested": "Génération d'un contrat demandé",
    "contracts.sweep": "Reprise des générations de contrats en attente",
    "idempotency.purge": "Purge des clés d'idempotence",
    "invoices.issue_period": "Émission des factures de la période",
    "invoices.produce_pdf": "Production du PDF d'une facture",
    "invoices.produce_missing": "Production des PDF de factures manquants",
    "invoices.resume_runs": "Reprise des facturations de période interrompues",
    "invoices.remind": "Relance des factures impayées",
    "job_runs.prune": "Nettoyage de l'historique des travaux",
    "mail.deliver": "Envoi d'un courriel",
    "mail.requeue": "Reprise des courriels en attente",
    "signatures.expire": "Expiration des demandes de signature",
    "signatures.page_images": "Images des pages d'un contrat à signer",
    "signatures.remind": "Relance des signataires",
    "signatures.seal": "Scellement du contrat signé",
    "signatures.sign": "Apposition d'une signature",
    "signatures.sweep": "Reprise des signatures et cachets en attente",
    "terms.fan_out": "Annonce d'une nouvelle version des CGV",
    "terms.notify": "Envoi d'une nouvelle version des CGV à des clients",
    "terms.render_pdf": "Production du PDF des CGV",
    "terms.render_preview": "Aperçu PDF des CGV",
    "terms.sweep": "Reprise des publications de CGV en attente",
    "webhooks.deliver": "Livraison d'un webhook",
    "webhooks.dispatch": "Répartition des webhooks à livrer",
    "webhooks.sweep": "Reprise des webhooks en attente",
}
