"""The keyring: one JSON file, mode 0600, outside the backup target and the database, holding
each backup key's bytes, and a tombstone (when, why) for each destroyed one. Destroying a key
removes its bytes from the file: every copy encrypted under it becomes noise (crypto-shredding).

Written by a temporary file renamed over the old one, under an exclusive file lock, so that
two processes (a backup and a purge) never lose each other's change, and a crash leaves the old
file whole. Key bytes never reach a log line: `Keyring.__repr__` names the ids only."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

KEY_BYTES = 32  # AES-256


@dataclass(frozen=True)
class Tombstone:
    destroyed_at: datetime
    reason: str


@dataclass
class Keyring:
    keys: dict[str, bytes] = field(default_factory=dict, repr=False)
    destroyed: dict[str, Tombstone] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Keyring(keys={sorted(self.keys)}, destroyed={sorted(self.destroyed)})"


class KeyringError(Exception):
    """The keyring file is unreadable: a backup or restore cannot go on without it."""


def _lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(_lock_path(path), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def read(path: Path) -> Keyring:
    if not path.exists():
        return Keyring()
    try:
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return Keyring(
            keys={k: base64.b64decode(v, validate=True) for k, v in data["keys"].items()},
            destroyed={
                k: Tombstone(datetime.fromisoformat(v["destroyed_at"]), str(v["reason"]))
                for k, v in data["destroyed"].items()
            },
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyringError(f"trousseau de clés illisible ({path}) : {type(exc).__name__}") from None


def _write(path: Path, ring: Keyring) -> None:
    data = {
        "keys": {k: base64.b64encode(v).decode("ascii") for k, v in sorted(ring.keys.items())},
        "destroyed": {
            k: {"destroyed_at": t.destroyed_at.isoformat(), "reason": t.reason}
            for k, t in sorted(ring.destroyed.items())
        },
    }
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=1)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def ensure(path: Path, key_ids: set[str]) -> Keyring:
    """The keyring with a key for each of `key_ids` that has none and was never destroyed (a
    destroyed id is never given a new key: its documents are gone for good)."""
    with _locked(path):
        ring = read(path)
        wanted = key_ids - ring.keys.keys() - ring.destroyed.keys()
        if wanted:
            for key_id in wanted:
                ring.keys[key_id] = secrets.token_bytes(KEY_BYTES)
            _write(path, ring)
        return ring


def destroy(path: Path, key_id: str, *, now: datetime, reason: str) -> bool:
    """Remove the key's bytes and leave a tombstone; False if it was already destroyed."""
    with _locked(path):
        ring = read(path)
        if key_id in ring.destroyed:
            return False
        ring.keys.pop(key_id, None)
        ring.destroyed[key_id] = Tombstone(now, reason)
        _write(path, ring)
        return True
