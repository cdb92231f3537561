"""Errors of reading and depositing archived documents."""

from app.errors import Conflict, DomainError, Gone, NotFound


class DocumentNotFound(NotFound):
    """No archived document with this id."""


class DocumentConflict(Conflict):
    """Other bytes already archived under the same kind, reference and version."""


class DocumentIntegrityFailed(DomainError):
    """The stored bytes are missing or no longer match the document's SHA-256: the archive
    cannot serve them until they are restored (an expected, journaled condition, not a bug)."""


class DocumentPurged(Gone):
    """The document's bytes were deleted at the end of its retention."""
