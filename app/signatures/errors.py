from app.documents.errors import DocumentIntegrityFailed
from app.errors import Conflict, DomainError, Gone, NotFound


class SigningLinkUnknown(NotFound):
    """No signer with this link's token."""


class SigningLinkGone(Gone):
    """The signer's link expired, or the request it belongs to is closed."""


class SignatureRefused(Conflict):
    """The request or document is not in a state that allows this step."""


class ConsentMissing(DomainError):
    """The signer did not tick the consent box."""


class NotYourTurn(Conflict):
    """The signer's group has not been reached yet, or the request is no longer open."""


class SignatureInProgress(Conflict):
    """A signer's consent is recorded and its signature being applied (the job
    `signatures.sign`): that signer can no longer decline nor ask for or enter a code, and the
    request can be neither cancelled nor declined by another signer until it is applied."""


class StaleRevision(Conflict):
    """Another signature landed since this one was prepared: re-read the latest PDF."""


class CodeRefused(DomainError):
    """A wrong, expired or missing one-time code."""


class SignerLocked(DomainError):
    """Too many wrong codes: the signer is locked out and the sender told."""


class NotAuthenticated(DomainError):
    """The signer has not entered a valid one-time code in this browser."""


class RequestNotFound(NotFound):
    """No signature request with this id."""


class NotAPdf(DomainError):
    """The uploaded or archived file is not a readable PDF."""


class AlreadySent(SignatureRefused):
    """The version already has its request (in progress or signed): a second click, a retry.
    Answered with the contract's page showing that request, not an error page."""


class ArchivedNotAPdf(NotAPdf):
    """An archived document asked for verification is not a PDF: the request is well formed,
    the document's nature forbids it (a conflict with its state, not invalid input)."""


class RevisionIntegrityFailed(DocumentIntegrityFailed):
    """The current revision of a signature request (the PDF being signed, a blob named by the
    request, not an archived document) is missing or no longer matches its SHA-256: nothing
    can be signed or sealed on it until it is restored (503, journaled, never a 500)."""


class CertificationUnavailable(DomainError):
    """The contract could not be certified before sending (the timestamp authority did not
    answer): nothing was recorded, sending again later works."""
