"""Immutable, content-addressed blob storage: the bytes of contracts, proofs and invoices.

Blobs are keyed by the lowercase hex SHA-256 of their content, never overwritten, and
re-hashed on read. Metadata (who, what, why it is kept) lives in the application's database;
this package knows nothing of it, and only enforces the write-once locks it is given (a
retention end, a legal hold).
"""

from typing import TYPE_CHECKING

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
from storage.s3_location import S3Location

if TYPE_CHECKING:
    from storage.s3 import S3BlobStore


def __getattr__(name: str) -> object:
    # The S3 store imports boto3 (half a second): only a process that uses it pays for it.
    if name == "S3BlobStore":
        from storage.s3 import S3BlobStore

        return S3BlobStore
    raise AttributeError(f"module 'storage' has no attribute {name!r}")


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
