"""The signing library's exception hierarchy.

Callers catch :class:`SigningError` at their boundary and map the subclasses to
user-facing messages; pyHanko's own exceptions never escape this package, so
the app does not depend on pyHanko's error types (which change between
releases).
"""

from __future__ import annotations

from datetime import datetime


class SigningError(Exception):
    """Base class for every error raised by :mod:`signing`."""


class InvalidSpecError(SigningError, ValueError):
    """A specification (box, field, signing parameters) is inconsistent.

    Also a ``ValueError`` so that generic input validation keeps working.
    """


class KeyLoadError(SigningError):
    """A key or certificate could not be loaded (bad file, wrong passphrase...)."""


class CertificateValidityError(SigningError):
    """The signing certificate is outside its validity period at signing time."""

    def __init__(self, message: str, *, not_before: datetime, not_after: datetime) -> None:
        super().__init__(message)
        self.not_before = not_before
        self.not_after = not_after


class CertificateExpiredError(CertificateValidityError):
    """Signing was refused because the certificate has expired."""


class CertificateNotYetValidError(CertificateValidityError):
    """Signing was refused because the certificate is not valid yet."""


class TimestampError(SigningError):
    """The timestamp authority could not deliver a usable token.

    Raised instead of signing without a timestamp: a B-T signature whose time
    silently comes from the server clock is worse than a retry later.
    """


class ValidationDataError(SigningError):
    """Validation data (certificates, OCSP responses, CRLs) could not be collected.

    Raised instead of producing a B-LT/B-LTA document without it; retry later.
    """


class SignatureFieldError(SigningError):
    """A signature field is missing, duplicated, already signed or misplaced."""


class InvalidPdfError(SigningError):
    """The input is not a PDF this library can read (corrupt, encrypted...)."""


class TrustRootError(SigningError):
    """A trust anchor given for verification is not a readable certificate."""
