"""The client space's refusals, in French (no HTTP: `app.error_table` maps them)."""

from __future__ import annotations

from app.errors import Conflict, Gone, NotFound


class SignInLinkGone(Gone):
    """A sign-in link that is unknown, used, expired, or whose contact lost its access."""


class SpaceDocumentNotFound(NotFound):
    """Nothing of this client under this number (another client's id included)."""


class RestitutionNotOpen(Conflict):
    """The restitution is offered only once the client's termination is recorded."""
