"""Immutable, content-addressed blob storage: the bytes of contracts, proofs and invoices.

Blobs are keyed by the lowercase hex SHA-256 of their content, never overwritten, and
re-hashed on read. Metadata (who, what, retention) lives in the application's database; this
package knows nothing of it.
"""

from storage.blobs import UNLOCKED, BlobLock, BlobRef, BlobStore, is_key, validate_key
from storage.errors import (
    BlobCorrupted,
    BlobLocked,
    BlobNotFound,
    InvalidKey,
    LockUnavailable,
    StorageError,
)
from storage.filesystem import FilesystemBlobStore
from storage.memory import MemoryBlobStore
from storage.s3 import S3BlobStore, S3Location

__all__ = [
    "UNLOCKED",
    "BlobCorrupted",
    "BlobLock",
    "BlobLocked",
    "BlobNotFound",
    "BlobRef",
    "BlobStore",
    "FilesystemBlobStore",
    "InvalidKey",
    "LockUnavailable",
    "MemoryBlobStore",
    "S3BlobStore",
    "S3Location",
    "StorageError",
    "is_key",
    "validate_key",
]
