from app.errors import FieldErrors, Gone, NotFound


class ArchiveQueryInvalid(FieldErrors):
    """Archive API parameters or bodies that fail validation, one per field."""


class RestitutionLinkGone(Gone):
    """The restitution link is unknown, expired, or already used."""


class RestitutionNotBuilt(NotFound):
    """The client has no restitution archive yet: a GET never builds one, a POST does."""


class RestitutionRequestNotFound(NotFound):
    """No restitution request has this number."""
