"""A `BlobStore` on a local (or mounted) POSIX filesystem.

Layout: `root/ab/cd/<sha256>` for blob `abcd...`, so no directory grows past 65,536 entries
per level; `root/.tmp/` holds writes in progress.

A blob appears under its final name only once its bytes are on disk: it is written to a
temporary file, fsynced, made read-only, then hard-linked into place. `os.link` fails if the
final name exists, which `os.rename` would silently replace: an existing blob is never
overwritten, even by a concurrent writer of the same content. A writer killed midway leaves
only a temporary file, which `sweep_temp` removes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from storage.blobs import (
    BlobRef,
    BlobStore,
    check_digest,
    is_key,
    validate_key,
    verifying_reader,
)
from storage.errors import BlobNotFound, StorageError

_READ_ONLY = 0o444
_TMP_DIR = ".tmp"
_FAN_OUT = re.compile(r"[0-9a-f]{2}")


class FilesystemBlobStore(BlobStore):
    """Immutable, content-addressed blobs under `root` (created if missing)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self._root = Path(root)
        self._tmp = self._root / _TMP_DIR
        self._tmp.mkdir(parents=True, exist_ok=True)

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

    def get(self, sha256: str) -> bytes:
        try:
            data = self._path(sha256).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(sha256) from None
        check_digest(sha256, hashlib.sha256(data).hexdigest())
        return data

    def open(self, sha256: str) -> BinaryIO:
        return verifying_reader(self._open_raw(sha256), sha256)

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def size(self, sha256: str) -> int:
        try:
            return self._path(sha256).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(sha256) from None

    def verify(self, sha256: str) -> None:
        with self._open_raw(sha256) as f:
            actual = hashlib.file_digest(f, "sha256").hexdigest()
        check_digest(sha256, actual)

    def delete(self, sha256: str) -> bool:
        final = self._path(sha256)
        try:
            final.unlink()
        except FileNotFoundError:
            return False
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
