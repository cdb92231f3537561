from app.documents.errors import DocumentIntegrityFailed
from app.errors import Conflict, DomainError, Gone, NotFound


class SigningLinkUnknown(NotFound):
    title = "Lien de signature inconnu"


class SigningLinkGone(Gone):
    title = "Lien de signature plus valable"


class SignatureRefused(Conflict):
    """The request or document is not in a state that allows this step."""


class ConsentMissing(DomainError):
    status = 422
    title = "Consentement requis"


class NotYourTurn(Conflict):
    """The signer's group has not been reached yet, or the request is no longer open."""

    title = "Signature pas encore ouverte"


class StaleRevision(Conflict):
    """Another signature landed since this one was prepared: re-read the latest PDF."""

    title = "Document modifié entre-temps"


class CodeRefused(DomainError):
    """A wrong, expired or missing one-time code."""

    status = 422
    title = "Code incorrect"


class SignerLocked(DomainError):
    """Too many wrong codes: the signer is locked out and the sender told."""

    status = 403
    title = "Accès bloqué"


class NotAuthenticated(DomainError):
    """The signer has not entered a valid one-time code in this browser."""

    status = 403
    title = "Code de vérification requis"


class RequestNotFound(NotFound):
    """No signature request with this id."""

    title = "Demande de signature introuvable"


class NotAPdf(DomainError):
    """The uploaded or archived file is not a readable PDF."""

    status = 422
    title = "Fichier non PDF"


class AlreadySent(SignatureRefused):
    """The version already has its request (in progress or signed): a second click, a retry.
    Answered with the contract's page showing that request, not an error page."""

    title = "Déjà envoyé pour signature"


class ArchivedNotAPdf(NotAPdf):
    """An archived document asked for verification is not a PDF: the request is well formed,
    the document's nature forbids it (a conflict with its state, not invalid input)."""

    status = 409
    title = "Document non vérifiable"


class RevisionIntegrityFailed(DocumentIntegrityFailed):
    """The current revision of a signature request (the PDF being signed, a blob named by the
    request, not an archived document) is missing or no longer matches its SHA-256: nothing
    can be signed or sealed on it until it is restored (503, journaled, never a 500)."""
