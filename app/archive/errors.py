from app.errors import FieldErrors, Gone


class ArchiveQueryInvalid(FieldErrors):
    """Archive API parameters or bodies that fail validation, one per field."""


class RestitutionLinkGone(Gone):
    """The restitution link is unknown, expired, or already used."""
