"""The content-addressed blob store interface and what every implementation shares."""

from __future__ import annotations

import hashlib
import io
import re
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, BinaryIO, Protocol

from storage.errors import BlobCorrupted, BlobLocked, InvalidKey

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

_KEY = re.compile(r"[0-9a-f]{64}")
# How much `verify` hashes at a time: a large blob is never held whole in memory.
_VERIFY_CHUNK = 1024 * 1024


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


@dataclass(frozen=True, slots=True)
class BlobLock:
    """What forbids deleting a blob: a retention end (write-once, compliance mode: it can be
    extended, never shortened nor lifted) and a legal hold (on until released)."""

    retain_until: datetime | None = None
    legal_hold: bool = False

    def protects(self, now: datetime) -> bool:
        """Whether the blob may not be deleted at `now`."""
        return self.legal_hold or (self.retain_until is not None and now < self.retain_until)


UNLOCKED = BlobLock()


def utc_now() -> datetime:
    """The stores' default clock: a lock's end is compared with the real time."""
    return datetime.now(UTC)


def ensure_deletable(sha256: str, lock: BlobLock, now: datetime) -> None:
    """Raise `BlobLocked` if `lock` still protects the blob at `now`."""
    if lock.protects(now):
        still = lock.retain_until if lock.retain_until and now < lock.retain_until else None
        raise BlobLocked(sha256, retain_until=still, legal_hold=lock.legal_hold)


def extended(lock: BlobLock, until: datetime) -> BlobLock:
    """`lock` with its retention extended to `until` (never shortened)."""
    if until.tzinfo is None:
        raise ValueError("retention end must be timezone-aware")
    if lock.retain_until is not None and lock.retain_until >= until:
        return lock
    return BlobLock(retain_until=until, legal_hold=lock.legal_hold)


def check_range(start: int, length: int) -> None:
    if start < 0 or length < 0:
        raise ValueError(f"invalid byte range: start={start}, length={length}")


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

    def open_range(self, sha256: str, start: int, length: int) -> BinaryIO:
        """Open `length` bytes from offset `start` (clamped to the blob's end; empty past it).

        Not verified: a part cannot be checked against the hash of the whole. A caller that
        serves ranges verifies the whole blob first (`verify`), as the HTTP layer does.
        """
        ...

    def retain(self, sha256: str, until: datetime) -> BlobLock:
        """Forbid deleting the blob before `until` (compliance mode: a later date extends the
        retention, an earlier one changes nothing); return the lock now in force."""
        ...

    def hold(self, sha256: str, on: bool) -> BlobLock:
        """Place (`on`) or release a legal hold, which forbids deletion whatever the date."""
        ...

    def lock(self, sha256: str) -> BlobLock:
        """The retention and legal hold of the blob (`UNLOCKED` if it has none)."""
        ...

    def delete(self, sha256: str) -> bool:
        """Remove the blob (retention purge); return False if it was absent.

        Raise `BlobLocked` (with the retention end) while a retention or legal hold protects it.
        """
        ...

    def iter_keys(self) -> Iterator[str]:
        """Yield every stored key, in ascending order."""
        ...


def check_digest(sha256: str, actual: str) -> None:
    """Raise `BlobCorrupted` unless `actual` is the expected digest."""
    if actual != sha256:
        raise BlobCorrupted(expected=sha256, actual=actual)


class _Wrapper(io.RawIOBase):
    """A readable raw stream over `inner`, which closing it closes."""

    def __init__(self, inner: BinaryIO) -> None:
        super().__init__()
        self._inner = inner

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()


class _VerifyingReader(_Wrapper):
    """Passes bytes through while hashing them, and checks the digest at end of stream."""

    def __init__(self, inner: BinaryIO, sha256: str) -> None:
        super().__init__(inner)
        self._sha256 = sha256
        self._hash = hashlib.sha256()

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._inner.read(len(view))
        if not data and len(view) > 0:
            check_digest(self._sha256, self._hash.hexdigest())
            return 0
        view[: len(data)] = data
        self._hash.update(data)
        return len(data)


class _LimitedReader(_Wrapper):
    """At most `remaining` bytes of `inner`."""

    def __init__(self, inner: BinaryIO, remaining: int) -> None:
        super().__init__(inner)
        self._remaining = remaining

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._inner.read(min(len(view), self._remaining))
        view[: len(data)] = data
        self._remaining -= len(data)
        return len(data)


class BaseBlobStore(BlobStore):
    """What every store does the same whatever the medium, so it is written once: reads
    checked against the key (`get`, `open`, `verify`, over the store's raw read
    `_open_raw`), the byte range refused before any I/O, and a lock judged at the store's
    own clock (`_clock`, which a test moves instead of waiting)."""

    _clock: Callable[[], datetime]

    # Abstract: a store that forgets one cannot be instantiated (Protocol's metaclass is an
    # ABCMeta), rather than failing at the first read.
    @abstractmethod
    def _open_raw(self, sha256: str) -> BinaryIO:
        """The stored bytes, not checked; raise `BlobNotFound` if there is no such blob."""

    @abstractmethod
    def _open_range(self, sha256: str, start: int, length: int) -> BinaryIO:
        """`open_range` once the range is known to be valid."""

    def open_range(self, sha256: str, start: int, length: int) -> BinaryIO:
        check_range(start, length)
        return self._open_range(sha256, start, length)

    def _ensure_deletable(self, sha256: str, lock: BlobLock) -> None:
        ensure_deletable(sha256, lock, self._clock())

    def get(self, sha256: str) -> bytes:
        with self._open_raw(sha256) as raw:
            data = raw.read()
        check_digest(sha256, hashlib.sha256(data).hexdigest())
        return data

    def open(self, sha256: str) -> BinaryIO:
        return verifying_reader(self._open_raw(sha256), sha256)

    def verify(self, sha256: str) -> None:
        hasher = hashlib.sha256()
        with self._open_raw(sha256) as raw:
            while chunk := raw.read(_VERIFY_CHUNK):
                hasher.update(chunk)
        check_digest(sha256, hasher.hexdigest())


def limited_reader(inner: BinaryIO, length: int) -> BinaryIO:
    """Read at most `length` bytes of `inner` (a range of a blob)."""
    return io.BufferedReader(_LimitedReader(inner, length))


def verifying_reader(inner: BinaryIO, sha256: str) -> BinaryIO:
    """Wrap `inner` so that reading it to the end verifies its SHA-256.

    Not seekable on purpose: a seek would make the running hash meaningless.
    """
    return io.BufferedReader(_VerifyingReader(inner, sha256))
