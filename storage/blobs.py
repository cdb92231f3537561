"""The content-addressed blob store interface and what every implementation shares."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Protocol

from storage.errors import BlobCorrupted, InvalidKey

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

_KEY = re.compile(r"[0-9a-f]{64}")


def is_key(key: object) -> bool:
    """Whether `key` is a lowercase hex SHA-256.

    Keys become file names, so nothing but the 64 hex digits may pass: no separators, no dots,
    no case variants that would name the same content twice.
    """
    return isinstance(key, str) and _KEY.fullmatch(key) is not None


def validate_key(key: str) -> str:
    """Return `key` if it is a lowercase hex SHA-256, else raise `InvalidKey`."""
    if not is_key(key):
        raise InvalidKey(key)
    return key


@dataclass(frozen=True, slots=True)
class BlobRef:
    """What a caller keeps (in a database row) to find a blob again."""

    sha256: str
    size: int

    def __post_init__(self) -> None:
        validate_key(self.sha256)
        if self.size < 0:
            raise ValueError(f"negative blob size: {self.size}")


class BlobStore(Protocol):
    """Immutable blobs keyed by the SHA-256 of their content.

    A blob, once stored, is never rewritten: storing the same bytes again returns the same
    `BlobRef`. Every method taking a key raises `InvalidKey` for a malformed one and, where the
    blob must exist, `BlobNotFound` when it does not.
    """

    def put(self, data: bytes) -> BlobRef:
        """Store `data` (idempotent) and return its reference."""
        ...

    def put_stream(self, chunks: Iterable[bytes]) -> BlobRef:
        """Store the concatenation of `chunks` without holding it all in memory."""
        ...

    def get(self, sha256: str) -> bytes:
        """Return the blob's bytes; raise `BlobCorrupted` if they no longer match the key."""
        ...

    def open(self, sha256: str) -> BinaryIO:
        """Open the blob for sequential reading.

        The reader hashes what it returns and raises `BlobCorrupted` when it reaches the end of
        a corrupted blob; a caller that stops early gets no verification.
        """
        ...

    def exists(self, sha256: str) -> bool:
        """Whether a blob is stored under this key (without verifying it)."""
        ...

    def size(self, sha256: str) -> int:
        """The blob's size in bytes (without verifying it)."""
        ...

    def verify(self, sha256: str) -> None:
        """Re-hash the blob; raise `BlobCorrupted` on mismatch."""
        ...

    def delete(self, sha256: str) -> bool:
        """Remove the blob (retention purge); return False if it was absent."""
        ...

    def iter_keys(self) -> Iterator[str]:
        """Yield every stored key, in ascending order."""
        ...


def check_digest(sha256: str, actual: str) -> None:
    """Raise `BlobCorrupted` unless `actual` is the expected digest."""
    if actual != sha256:
        raise BlobCorrupted(expected=sha256, actual=actual)


class _VerifyingReader(io.RawIOBase):
    """Passes bytes through while hashing them, and checks the digest at end of stream."""

    def __init__(self, inner: BinaryIO, sha256: str) -> None:
        super().__init__()
        self._inner = inner
        self._sha256 = sha256
        self._hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._inner.read(len(view))
        if not data and len(view) > 0:
            check_digest(self._sha256, self._hash.hexdigest())
            return 0
        view[: len(data)] = data
        self._hash.update(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()


def verifying_reader(inner: BinaryIO, sha256: str) -> BinaryIO:
    """Wrap `inner` so that reading it to the end verifies its SHA-256.

    Not seekable on purpose: a seek would make the running hash meaningless.
    """
    return io.BufferedReader(_VerifyingReader(inner, sha256))
