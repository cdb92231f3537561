"""The one table that says what each domain error is at the edge: HTTP status, titles, page.

The domain's exceptions carry only what happened, in French (`detail`, and data such as
`FieldErrors.errors`); how a refusal is answered (404 or 409, which title, which page) is a
decision of the edge, taken here once for the API, the web pages and the commands alike.
A class without its own row inherits its nearest base's row (looked up along the MRO), so a
new `NotFound` subclass is a 404 "Introuvable" without a line here.

Rows are keyed by the class's full dotted name, not by the class: the table then imports no
feature, so any layer (a signer's page showing a refusal in place, a command) can read it
without depending on the features above it. `tests/unit/test_error_table.py` checks that
every key names an existing DomainError and that every DomainError finds a row.

Flask-free, so commands and jobs read it too; `app.http_errors` turns a row into a response.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.errors import DomainError


@dataclass(frozen=True)
class ErrorRow:
    status: int
    title: str  # French, the default everywhere
    title_en: str  # for an API client whose Accept-Language prefers English
    # A web page of its own (given `title`, `detail` and `error`), else `error.html`.
    template: str | None = None


TABLE: Mapping[str, ErrorRow] = {
    # The bases: every other class falls back on one of these.
    "app.errors.DomainError": ErrorRow(400, "Requête invalide", "Invalid request"),
    "app.errors.FieldErrors": ErrorRow(422, "Données invalides", "Invalid data"),
    "app.errors.NotFound": ErrorRow(404, "Introuvable", "Not found"),
    "app.errors.Gone": ErrorRow(410, "Plus disponible", "No longer available"),
    "app.errors.Conflict": ErrorRow(409, "Conflit", "Conflict"),
    "app.errors.InvalidBody": ErrorRow(422, "Données invalides", "Invalid data"),
    # idempotency of the API's POSTs
    "app.idempotency.errors.IdempotencyKeyInvalid": ErrorRow(
        400, "Clé d'idempotence invalide", "Invalid idempotency key"
    ),
    "app.idempotency.errors.IdempotencyKeyReused": ErrorRow(
        409, "Clé d'idempotence déjà utilisée", "Idempotency key already used"
    ),
    "app.idempotency.errors.IdempotencyKeyInProgress": ErrorRow(
        409, "Requête en cours", "Request in progress"
    ),
    # clients: met by the API on a PATCH whose If-Match names an older revision (the web form
    # answers the same refusal in place, with the current values, as a 409)
    "app.clients.errors.ClientChanged": ErrorRow(
        412, "Client modifié entre-temps", "Client changed in the meantime"
    ),
    # documents
    "app.documents.errors.DocumentIntegrityFailed": ErrorRow(
        503, "Contrôle d'intégrité échoué", "Integrity check failed"
    ),
    # archive: the client who followed an emailed link gets the restitution's own page.
    "app.archive.errors.RestitutionLinkGone": ErrorRow(
        410, "Plus disponible", "No longer available", template="restitution/gone.html"
    ),
    # client space: a sign-in link that no longer opens anything
    "app.client_space.errors.SignInLinkGone": ErrorRow(
        410,
        "Lien de connexion plus valable",
        "Sign-in link no longer valid",
        template="client_space/link_gone.html",
    ),
    # invoices
    "app.invoices.errors.ContractNotSigned": ErrorRow(
        409, "Contrat non signé", "Contract not signed"
    ),
    "app.invoices.errors.PeriodInvalid": ErrorRow(422, "Période invalide", "Invalid period"),
    "app.invoices.errors.RateMissing": ErrorRow(
        422, "Taux de référence manquant", "Reference rate missing"
    ),
    "app.invoices.errors.SyntecIndexMissing": ErrorRow(
        422, "Indice Syntec manquant", "Syntec index missing"
    ),
    "app.invoices.errors.PeriodAfterTermination": ErrorRow(
        409, "Client résilié", "Client terminated"
    ),
    "app.invoices.errors.PdfNotProduced": ErrorRow(
        409, "PDF en cours de production", "PDF being produced"
    ),
    # signatures
    "app.signatures.errors.SigningLinkUnknown": ErrorRow(
        404, "Lien de signature inconnu", "Unknown signing link"
    ),
    "app.signatures.errors.SigningLinkGone": ErrorRow(
        410, "Lien de signature plus valable", "Signing link no longer valid"
    ),
    "app.signatures.errors.ConsentMissing": ErrorRow(
        422, "Consentement requis", "Consent required"
    ),
    "app.signatures.errors.NotYourTurn": ErrorRow(
        409, "Signature pas encore ouverte", "Signing not open yet"
    ),
    "app.signatures.errors.SignatureInProgress": ErrorRow(
        409, "Signature en cours d'application", "Signature being applied"
    ),
    "app.signatures.errors.StaleRevision": ErrorRow(
        409, "Document modifié entre-temps", "Document changed in the meantime"
    ),
    "app.signatures.errors.CodeRefused": ErrorRow(422, "Code incorrect", "Incorrect code"),
    "app.signatures.errors.SignerLocked": ErrorRow(403, "Accès bloqué", "Access blocked"),
    "app.signatures.errors.NotAuthenticated": ErrorRow(
        403, "Code de vérification requis", "Verification code required"
    ),
    "app.signatures.errors.RequestNotFound": ErrorRow(
        404, "Demande de signature introuvable", "Signature request not found"
    ),
    "app.signatures.errors.NotAPdf": ErrorRow(422, "Fichier non PDF", "Not a PDF file"),
    "app.signatures.errors.AlreadySent": ErrorRow(
        409, "Déjà envoyé pour signature", "Already sent for signature"
    ),
    "app.signatures.errors.CertificationUnavailable": ErrorRow(
        503, "Certification indisponible", "Certification unavailable"
    ),
    "app.signatures.errors.ArchivedNotAPdf": ErrorRow(
        409, "Document non vérifiable", "Document cannot be verified"
    ),
    # terms
    "app.terms.errors.ConsentMissing": ErrorRow(422, "Acceptation manquante", "Acceptance missing"),
    "app.terms.errors.PreviewNotReady": ErrorRow(
        409, "Aperçu pas encore prêt", "Preview not ready yet"
    ),
    "app.terms.errors.PreviewStale": ErrorRow(
        409, "Texte différent de l'aperçu", "Text differs from the preview"
    ),
}


def key_of(cls: type) -> str:
    """A class's key in TABLE: its full dotted name."""
    return f"{cls.__module__}.{cls.__qualname__}"


def row_for(error: type[DomainError] | DomainError) -> ErrorRow:
    """The row of this error class (or instance): its own, else its nearest base's."""
    cls = error if isinstance(error, type) else type(error)
    for base in cls.__mro__:
        row = TABLE.get(key_of(base))
        if row is not None:
            return row
    raise LookupError(f"{cls.__qualname__} n'est pas une DomainError")  # unreachable for one


def status_of(error: DomainError) -> int:
    return row_for(error).status


def title_of(error: DomainError, *, english: bool = False) -> str:
    row = row_for(error)
    return row.title_en if english else row.title
