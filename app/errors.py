"""Domain error bases: a refused operation, explained in French. Subclassed by each feature.

No Flask here (import-linter holds it), and no HTTP either: services and rules raise these
whatever calls them (a view, a job, the CLI), carrying only what happened (`detail`, in French).
Status codes, titles and error pages are the edge's choice, in one table (`app.error_table`),
which `app.http_errors` turns into responses.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refused operation, explained to the user. Subclassed by each feature."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def members(self) -> dict[str, object]:
        """What a program needs to act on the refusal without reading `detail` (an id, a
        link), as values: the API adds them to its problem+json answer. None by default."""
        return {}


def field_sentences(errors: dict[str, str], colon: str = " : ") -> str:
    """One sentence per field, `field : message.`: the messages end with their own full stop
    (« Ce champ est obligatoire. »), so a separator after it would read « obligatoire.; »."""
    return " ".join(
        f"{field}{colon}{message if message.endswith(('.', '!', '?', '…')) else message + '.'}"
        for field, message in errors.items()
    )


class FieldErrors(DomainError):
    """Input that fails validation, with one message per field (form field or JSON member)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(field_sentences(errors))
        self.errors = errors


class InvalidBody(FieldErrors):
    """A JSON body (or an API header) refused, one message per path into it (`lines[2].quantity`,
    `signers[0].email`): the API answers these as a list of `{"field", "message"}`."""


class NotFound(DomainError):
    """What was asked for does not exist (or is not visible to the asker)."""


class Gone(DomainError):
    """What was asked for existed but is no longer available (an expired or used link)."""


class Conflict(DomainError):
    """The operation does not fit the current state of what it acts on."""
