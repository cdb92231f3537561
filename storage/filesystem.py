"""A `BlobStore` on a local (or mounted) POSIX filesystem.

Layout: `root/ab/cd/<sha256>` for blob `abcd...`, so no directory grows past 65,536 entries
per level; `root/.tmp/` holds writes in progress.

A blob appears under its final name only once its bytes are on disk: it is written to a
temporary file, fsynced, made read-only, then hard-linked into place. `os.link` fails if the
final name exists, which `os.rename` would silently replace: an existing blob is never
overwritten, even by a concurrent writer of the same content. A writer killed midway leaves
only a temporary file, which `sweep_temp` removes.

Retention and legal hold live in a sidecar `<sha256>.lock` (JSON) next to the blob, replaced
atomically under an exclusive `flock` so that concurrent processes never lose an extension.
The store enforces them (`delete` refuses); an operator with shell access could still remove
files, which only a WORM device or an Object Lock bucket prevents.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from storage.blobs import (
    UNLOCKED,
    BaseBlobStore,
    BlobLock,
    BlobRef,
    extended,
    is_key,
    limited_reader,
    utc_now,
    validate_key,
)
from storage.errors import BlobNotFound, StorageError

_READ_ONLY = 0o444
_TMP_DIR = ".tmp"
_LOCK_SUFFIX = ".lock"
_METADATA_MUTEX = ".lock-metadata"
_FAN_OUT = re.compile(r"[0-9a-f]{2}")


class FilesystemBlobStore(BaseBlobStore):
    """Immutable, content-addressed blobs under `root` (created if missing).

    `clock` decides when a retention has ended (a test moves it instead of waiting)."""

    def __init__(
        self, root: str | os.PathLike[str], clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._root = Path(root)
        self._tmp = self._root / _TMP_DIR
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._clock = clock

    @property
    def root(self) -> Path:
        return self._root

    def put(self, data: bytes) -> BlobRef:
        ref = BlobRef(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
        final = self._path(ref.sha256)
        if final.is_file():
            # Already stored: skip the write, but make sure its directory entry is durable
            # in case a concurrent writer linked it a moment ago and has not synced yet.
            _fsync_dir(final.parent)
            return ref
        return self.put_stream((data,))

    def put_stream(self, chunks: Iterable[bytes]) -> BlobRef:
        hasher = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    hasher.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fchmod(out.fileno(), _READ_ONLY)
                os.fsync(out.fileno())
            ref = BlobRef(sha256=hasher.hexdigest(), size=size)
            self._install(tmp, ref.sha256)
        finally:
            # After a successful link the blob lives on under its final name; before it,
            # nothing of this write must remain.
            tmp.unlink(missing_ok=True)
        return ref

    def _open_range(self, sha256: str, start: int, length: int) -> BinaryIO:
        raw = self._open_raw(sha256)
        raw.seek(start)
        return limited_reader(raw, length)

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def size(self, sha256: str) -> int:
        try:
            return self._path(sha256).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(sha256) from None

    def retain(self, sha256: str, until: datetime) -> BlobLock:
        with self._metadata(sha256):
            return self._write_lock(sha256, extended(self._read_lock(sha256), until))

    def hold(self, sha256: str, on: bool) -> BlobLock:
        with self._metadata(sha256):
            current = self._read_lock(sha256)
            return self._write_lock(sha256, BlobLock(current.retain_until, legal_hold=on))

    def lock(self, sha256: str) -> BlobLock:
        if not self.exists(sha256):
            raise BlobNotFound(sha256)
        return self._read_lock(sha256)

    def delete(self, sha256: str) -> bool:
        final = self._path(sha256)
        with self._metadata_mutex():
            if not final.is_file():
                return False
            self._ensure_deletable(sha256, self._read_lock(sha256))
            try:
                final.unlink()
            except FileNotFoundError:
                return False
            self._lock_path(sha256).unlink(missing_ok=True)
        _fsync_dir(final.parent)
        return True

    def iter_keys(self) -> Iterator[str]:
        # Only names that are keys and sit in their own fan-out directory: stray files
        # (an operator's backup copy, the temp directory) are not blobs.
        for shard in _subdirs(self._root):
            for leaf in _subdirs(shard):
                prefix = shard.name + leaf.name
                for name in sorted(os.listdir(leaf)):
                    if is_key(name) and name.startswith(prefix):
                        yield name

    def sweep_temp(self, older_than_seconds: float) -> int:
        """Remove temporary files untouched for `older_than_seconds`; return how many.

        A temporary file is only touched while its writer makes progress, so the threshold
        must exceed the longest pause of the slowest upload: a swept in-flight write fails
        with `StorageError` rather than storing anything wrong.
        """
        cutoff = time.time() - older_than_seconds
        removed = 0
        for entry in os.scandir(self._tmp):
            # A file may finish (and be unlinked by its writer) between scandir and stat.
            with contextlib.suppress(FileNotFoundError):
                if entry.stat(follow_symlinks=False).st_mtime <= cutoff:
                    os.unlink(entry.path)
                    removed += 1
        return removed

    def _lock_path(self, sha256: str) -> Path:
        return self._path(sha256).with_name(sha256 + _LOCK_SUFFIX)

    def _read_lock(self, sha256: str) -> BlobLock:
        try:
            raw = json.loads(self._lock_path(sha256).read_text())
        except FileNotFoundError:
            return UNLOCKED
        until = raw.get("retain_until")
        return BlobLock(
            retain_until=datetime.fromisoformat(until) if until else None,
            legal_hold=bool(raw.get("legal_hold")),
        )

    def _write_lock(self, sha256: str, lock: BlobLock) -> BlobLock:
        body = {
            "retain_until": lock.retain_until.isoformat() if lock.retain_until else None,
            "legal_hold": lock.legal_hold,
        }
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="lock-")
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(body, out)
                out.flush()
                os.fsync(out.fileno())
            # Replacing is right here, unlike for blobs: the sidecar is the lock's current
            # state, and `extended` has already made sure it never goes backwards.
            os.replace(tmp_name, self._lock_path(sha256))
        finally:
            Path(tmp_name).unlink(missing_ok=True)
        _fsync_dir(self._lock_path(sha256).parent)
        return lock

    @contextlib.contextmanager
    def _metadata(self, sha256: str) -> Iterator[None]:
        """The metadata mutex, for a blob that must exist."""
        with self._metadata_mutex():
            if not self.exists(sha256):
                raise BlobNotFound(sha256)
            yield

    @contextlib.contextmanager
    def _metadata_mutex(self) -> Iterator[None]:
        """One writer of lock sidecars at a time, across threads and processes: a retention
        read then rewritten must not race a concurrent extension or a delete."""
        with open(self._root / _METADATA_MUTEX, "a") as mutex:
            fcntl.flock(mutex, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(mutex, fcntl.LOCK_UN)

    def _path(self, sha256: str) -> Path:
        key = validate_key(sha256)
        return self._root / key[:2] / key[2:4] / key

    def _open_raw(self, sha256: str) -> io.FileIO:
        try:
            return io.FileIO(self._path(sha256), "r")
        except FileNotFoundError:
            raise BlobNotFound(sha256) from None

    def _install(self, tmp: Path, sha256: str) -> None:
        final = self._path(sha256)
        for directory in (final.parent.parent, final.parent):
            if not directory.is_dir():
                directory.mkdir(exist_ok=True)
                # A new directory entry is only durable once its parent is synced.
                _fsync_dir(directory.parent)
        try:
            # Same name means same content: keep the blob already there, never overwrite it.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, final)
        except FileNotFoundError as exc:
            raise StorageError(
                f"temporary file {tmp} vanished before install (swept too early?)"
            ) from exc
        _fsync_dir(final.parent)


def _subdirs(parent: Path) -> list[Path]:
    """The two-hex-digit fan-out directories of `parent`, sorted."""
    return sorted(
        entry
        for entry in parent.iterdir()
        if _FAN_OUT.fullmatch(entry.name) is not None and entry.is_dir()
    )


def _fsync_dir(directory: Path) -> None:
    """Persist a directory's entries (a link, an unlink), which fsyncing the file does not."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
