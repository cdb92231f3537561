"""Domain error bases: a refused operation, explained in French. Subclassed by each feature.

No Flask here (import-linter holds it): services and rules raise these whatever calls them (a
view, a job, the CLI). `app.http_errors` is the one place where they become HTTP responses.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refused operation, explained to the user. Subclassed by each feature."""

    status = 400
    title = "Requête invalide"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class FieldErrors(DomainError):
    """Input that fails validation, with one message per field (form field or JSON member)."""

    status = 422
    title = "Données invalides"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k} : {v}" for k, v in errors.items()))
        self.errors = errors


class NotFound(DomainError):
    status = 404
    title = "Introuvable"


class Gone(DomainError):
    status = 410
    title = "Plus disponible"


class Conflict(DomainError):
    status = 409
    title = "Conflit"
