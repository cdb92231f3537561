"""Copying blobs from one store to another (a move to S3), each verified by its hash.

Resumable by construction: a blob already in the target with the right size is left alone,
so a run interrupted midway is simply run again. The write-once locks travel with the bytes:
the target's lock is extended to the source's (never shortened: that is the lock's rule)."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from datetime import datetime
from typing import BinaryIO

from storage.blobs import UNLOCKED, BlobLock, BlobStore, check_digest

_CHUNK = 1024 * 1024


class Copied(enum.Enum):
    COPIED = "copied"
    ALREADY_THERE = "already_there"


def copy_blob(
    source: BlobStore, target: BlobStore, sha256: str, *, lock: BlobLock = UNLOCKED
) -> Copied:
    """Copy one blob unless the target has it already; verify the copy by re-reading it from
    the target; then give it (at least) the source's lock merged with `lock`.

    Raises `BlobCorrupted` when the source no longer matches its key (nothing is written
    under the key) or the target's copy does not, `StorageError` (or the target's transport
    error) on a failed write."""
    outcome = Copied.ALREADY_THERE
    if not (target.exists(sha256) and target.size(sha256) == source.size(sha256)):
        with source.open(sha256) as reader:
            # The verifying reader raises at the end of a damaged source, before the
            # target's put returns: a damaged blob is never installed under its key.
            ref = target.put_stream(_chunks(reader))
        check_digest(sha256, ref.sha256)
        target.verify(sha256)
        outcome = Copied.COPIED
    wanted = merge(source.lock(sha256), lock)
    current = target.lock(sha256)
    if wanted.retain_until is not None and wanted.retain_until != current.retain_until:
        target.retain(sha256, wanted.retain_until)
    if wanted.legal_hold and not current.legal_hold:
        target.hold(sha256, True)
    return outcome


def merge(a: BlobLock, b: BlobLock) -> BlobLock:
    """The stronger of two locks: the later end, and a hold if either holds."""
    ends = [end for end in (a.retain_until, b.retain_until) if end is not None]
    until: datetime | None = max(ends) if ends else None
    return BlobLock(retain_until=until, legal_hold=a.legal_hold or b.legal_hold)


def _chunks(reader: BinaryIO) -> Iterator[bytes]:
    while chunk := reader.read(_CHUNK):
        yield chunk
