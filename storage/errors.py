"""The storage exception hierarchy: callers catch `StorageError` and map it once, at the edge."""

from __future__ import annotations

from datetime import datetime


class StorageError(Exception):
    """Base class for every error raised by `storage`."""


class InvalidKey(StorageError):
    """The key is not 64 lowercase hex digits (a SHA-256)."""

    def __init__(self, key: object) -> None:
        super().__init__(f"invalid blob key: {key!r} (expected 64 lowercase hex digits)")
        self.key = key


class BlobNotFound(StorageError):
    """No blob is stored under this key."""

    def __init__(self, sha256: str) -> None:
        super().__init__(f"blob not found: {sha256}")
        self.sha256 = sha256


class BlobCorrupted(StorageError):
    """The stored bytes no longer hash to their key: the archive lost integrity."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"blob corrupted: expected sha256 {expected}, read {actual}")
        self.expected = expected
        self.actual = actual


class BlobLocked(StorageError):
    """Write-once retention or a legal hold forbids deleting this blob (yet)."""

    def __init__(self, sha256: str, *, retain_until: datetime | None, legal_hold: bool) -> None:
        reasons = []
        if legal_hold:
            reasons.append("gel juridique en cours")
        if retain_until is not None:
            reasons.append(f"conservation obligatoire jusqu'au {retain_until.isoformat()}")
        super().__init__(f"suppression refusée pour {sha256} : " + ", ".join(reasons))
        self.sha256 = sha256
        self.retain_until = retain_until
        self.legal_hold = legal_hold


class LockUnavailable(StorageError):
    """The store cannot hold write-once retention (an S3 bucket without Object Lock)."""
