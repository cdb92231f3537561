"""Immutable, content-addressed blob storage: the bytes of contracts, proofs and invoices.

Blobs are keyed by the lowercase hex SHA-256 of their content, never overwritten, and
re-hashed on read. Metadata (who, what, retention) lives in the application's database; this
package knows nothing of it.
"""

from storage.blobs import BlobRef, BlobStore, is_key, validate_key
from storage.errors import BlobCorrupted, BlobNotFound, InvalidKey, StorageError
from storage.filesystem import FilesystemBlobStore
from storage.memory import MemoryBlobStore

__all__ = [
    "BlobCorrupted",
    "BlobNotFound",
    "BlobRef",
    "BlobStore",
    "FilesystemBlobStore",
    "InvalidKey",
    "MemoryBlobStore",
    "StorageError",
    "is_key",
    "validate_key",
]
