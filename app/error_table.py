"""The one table that says what each domain error is at the edge: HTTP status, titles, page.

The domain's exceptions carry only what happened, in French (`detail`, and data such as
`FieldErrors.errors`); how a refusal is answered (404 or 409, which title, which page) is a
decision of the edge, taken here once for the API, the web pages and the commands alike.
A class without its own row inherits its nearest base's row (looked up along the MRO), so a
new `NotFound` subclass is a 404 "Introuvable" without a line here.

Flask-free, so commands and jobs read it too; `app.http_errors` turns a row into a response.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.archive.errors import RestitutionLinkGone
from app.documents.errors import DocumentIntegrityFailed
from app.errors import Conflict, DomainError, FieldErrors, Gone, NotFound
from app.invoices.errors import (
    ContractNotSigned,
    PdfNotProduced,
    PeriodAfterTermination,
    PeriodInvalid,
    RateMissing,
    SyntecIndexMissing,
)
from app.signatures import errors as signatures
from app.terms import errors as terms


@dataclass(frozen=True)
class ErrorRow:
    status: int
    title: str  # French, the default everywhere
    title_en: str  # for an API client whose Accept-Language prefers English
    # A web page of its own (given `title`, `detail` and `error`), else `error.html`.
    template: str | None = None


TABLE: Mapping[type[DomainError], ErrorRow] = {
    # The bases: every other class falls back on one of these.
    DomainError: ErrorRow(400, "Requête invalide", "Invalid request"),
    FieldErrors: ErrorRow(422, "Données invalides", "Invalid data"),
    NotFound: ErrorRow(404, "Introuvable", "Not found"),
    Gone: ErrorRow(410, "Plus disponible", "No longer available"),
    Conflict: ErrorRow(409, "Conflit", "Conflict"),
    # documents
    DocumentIntegrityFailed: ErrorRow(503, "Contrôle d'intégrité échoué", "Integrity check failed"),
    # archive: the client who followed an emailed link gets the restitution's own page.
    RestitutionLinkGone: ErrorRow(
        410, "Plus disponible", "No longer available", template="restitution/gone.html"
    ),
    # invoices
    ContractNotSigned: ErrorRow(409, "Contrat non signé", "Contract not signed"),
    PeriodInvalid: ErrorRow(422, "Période invalide", "Invalid period"),
    RateMissing: ErrorRow(422, "Taux de référence manquant", "Reference rate missing"),
    SyntecIndexMissing: ErrorRow(422, "Indice Syntec manquant", "Syntec index missing"),
    PeriodAfterTermination: ErrorRow(409, "Client résilié", "Client terminated"),
    PdfNotProduced: ErrorRow(409, "PDF en cours de production", "PDF being produced"),
    # signatures
    signatures.SigningLinkUnknown: ErrorRow(
        404, "Lien de signature inconnu", "Unknown signing link"
    ),
    signatures.SigningLinkGone: ErrorRow(
        410, "Lien de signature plus valable", "Signing link no longer valid"
    ),
    signatures.ConsentMissing: ErrorRow(422, "Consentement requis", "Consent required"),
    signatures.NotYourTurn: ErrorRow(409, "Signature pas encore ouverte", "Signing not open yet"),
    signatures.StaleRevision: ErrorRow(
        409, "Document modifié entre-temps", "Document changed in the meantime"
    ),
    signatures.CodeRefused: ErrorRow(422, "Code incorrect", "Incorrect code"),
    signatures.SignerLocked: ErrorRow(403, "Accès bloqué", "Access blocked"),
    signatures.NotAuthenticated: ErrorRow(
        403, "Code de vérification requis", "Verification code required"
    ),
    signatures.RequestNotFound: ErrorRow(
        404, "Demande de signature introuvable", "Signature request not found"
    ),
    signatures.NotAPdf: ErrorRow(422, "Fichier non PDF", "Not a PDF file"),
    signatures.AlreadySent: ErrorRow(
        409, "Déjà envoyé pour signature", "Already sent for signature"
    ),
    signatures.ArchivedNotAPdf: ErrorRow(
        409, "Document non vérifiable", "Document cannot be verified"
    ),
    # terms
    terms.ConsentMissing: ErrorRow(422, "Acceptation manquante", "Acceptance missing"),
}


def row_for(error: type[DomainError] | DomainError) -> ErrorRow:
    """The row of this error class (or instance): its own, else its nearest base's."""
    cls = error if isinstance(error, type) else type(error)
    for base in cls.__mro__:
        row = TABLE.get(base)
        if row is not None:
            return row
    raise LookupError(f"{cls.__qualname__} n'est pas une DomainError")  # unreachable for one


def status_of(error: DomainError) -> int:
    return row_for(error).status


def title_of(error: DomainError, *, english: bool = False) -> str:
    row = row_for(error)
    return row.title_en if english else row.title
