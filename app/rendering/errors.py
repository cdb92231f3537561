"""The rendering package's exceptions.

These are internal failures (a broken or hostile template, a refused resource, a PDF engine
error), not refusals explained to a user: the edge maps them to a 500 and logs the cause.
"""

from __future__ import annotations


class RenderingError(Exception):
    """A document could not be rendered. The original exception is chained as __cause__."""


class TemplateSecurityError(RenderingError):
    """A template tried to reach something the sandbox forbids (Python internals, huge values)."""


class ForbiddenResourceError(RenderingError):
    """The PDF engine asked for a resource outside the bundled assets (file:, http:, data: ...)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"ressource refusée : {url[:200]!r} ({reason})")
        self.url = url
        self.reason = reason
