"""An in-memory `BlobStore`: the fake for unit tests, held to the same contract tests."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import BinaryIO

from storage.blobs import (
    UNLOCKED,
    BaseBlobStore,
    BlobLock,
    BlobRef,
    extended,
    utc_now,
    validate_key,
)
from storage.errors import BlobNotFound


class MemoryBlobStore(BaseBlobStore):
    """Blobs in a dict. Thread-safe, so tests of concurrent callers can use it too.

    `clock` decides when a retention has ended (a test moves it instead of waiting)."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self._blobs: dict[str, bytes] = {}
        self._locks: dict[str, BlobLock] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def put(self, data: bytes) -> BlobRef:
        return self.put_stream((data,))

    def put_stream(self, chunks: Iterable[bytes]) -> BlobRef:
        hasher = hashlib.sha256()
        parts: list[bytes] = []
        for chunk in chunks:
            hasher.update(chunk)
            parts.append(bytes(chunk))
        data = b"".join(parts)
        ref = BlobRef(sha256=hasher.hexdigest(), size=len(data))
        with self._lock:
            # setdefault, not assignment: a stored blob is never replaced, as on disk.
            self._blobs.setdefault(ref.sha256, data)
        return ref

    def _open_range(self, sha256: str, start: int, length: int) -> BinaryIO:
        return io.BytesIO(self._load(sha256)[start : start + length])

    def exists(self, sha256: str) -> bool:
        return validate_key(sha256) in self._blobs

    def size(self, sha256: str) -> int:
        return len(self._load(sha256))

    def retain(self, sha256: str, until: datetime) -> BlobLock:
        with self._lock:
            self._load(sha256)
            lock = self._locks[sha256] = extended(self._locks.get(sha256, UNLOCKED), until)
        return lock

    def hold(self, sha256: str, on: bool) -> BlobLock:
        with self._lock:
            self._load(sha256)
            current = self._locks.get(sha256, UNLOCKED)
            lock = self._locks[sha256] = BlobLock(current.retain_until, legal_hold=on)
        return lock

    def lock(self, sha256: str) -> BlobLock:
        self._load(sha256)
        return self._locks.get(sha256, UNLOCKED)

    def delete(self, sha256: str) -> bool:
        with self._lock:
            if validate_key(sha256) not in self._blobs:
                return False
            self._ensure_deletable(sha256, self._locks.get(sha256, UNLOCKED))
            del self._blobs[sha256]
            self._locks.pop(sha256, None)
            return True

    def iter_keys(self) -> Iterator[str]:
        with self._lock:
            keys = sorted(self._blobs)
        yield from keys

    def _open_raw(self, sha256: str) -> BinaryIO:
        return io.BytesIO(self._load(sha256))

    def _load(self, sha256: str) -> bytes:
        try:
            return self._blobs[validate_key(sha256)]
        except KeyError:
            raise BlobNotFound(sha256) from None

    def _corrupt(self, sha256: str) -> None:
        """Test hook: damage the stored bytes as bit rot would, keeping the key."""
        data = self._load(sha256)
        with self._lock:
            self._blobs[sha256] = bytes([data[0] ^ 0xFF]) + data[1:] if data else b"\x00"
