"""The keyring file: 0600, keys created once, a destroyed key never recreated, its bytes gone
from the file, never shown by repr."""

from __future__ import annotations

import base64
import stat
from datetime import UTC, datetime
from pathlib import Path

from app.backup_keys import keyring

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def test_keys_are_created_once_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    first = keyring.ensure(path, {"client-1", "plateforme"})
    again = keyring.ensure(path, {"client-1"})
    assert again.keys["client-1"] == first.keys["client-1"]
    assert len(first.keys["client-1"]) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert base64.b64encode(first.keys["client-1"]).decode() not in repr(first)


def test_a_destroyed_key_is_gone_and_never_recreated(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    secret = keyring.ensure(path, {"client-1", "client-2"}).keys["client-1"]
    assert keyring.destroy(path, "client-1", now=NOW, reason="purge du client")
    assert not keyring.destroy(path, "client-1", now=NOW, reason="encore")
    ring = keyring.ensure(path, {"client-1", "client-2"})
    assert "client-1" not in ring.keys and "client-2" in ring.keys
    assert ring.destroyed["client-1"] == keyring.Tombstone(NOW, "purge du client")
    assert base64.b64encode(secret) not in path.read_bytes()
