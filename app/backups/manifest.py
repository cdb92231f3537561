"""A backup's manifest: what the backup holds and how to check it. Canonical JSON (sorted
keys), sealed by the platform key in a detached CMS file beside it (`<name>.json.p7s`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

FORMAT = "paraphe-backup/1"


@dataclass(frozen=True)
class Copy:
    """One encrypted copy at the target: the plaintext's hash and size (what the restore
    must get back), the copy's own hash (checked before decrypting), the key it is under."""

    stored: str
    size: int
    key_id: str | None


@dataclass(frozen=True)
class Manifest:
    name: str
    created_at: datetime
    database: str  # "sqlite" or "postgresql": the dump's format
    schema_revision: str | None
    dump_sha256: str
    dump: Copy
    journal_head: dict[str, Any]
    blobs: dict[str, Copy] = field(default_factory=dict)

    def to_json(self) -> bytes:
        data = {
            "format": FORMAT,
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "database": self.database,
            "schema_revision": self.schema_revision,
            "dump": {"sha256": self.dump_sha256, **_copy(self.dump)},
            "journal_head": self.journal_head,
            "blobs": {sha: _copy(c) for sha, c in sorted(self.blobs.items())},
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        data = json.loads(raw)
        if data.get("format") != FORMAT:
            raise ValueError(f"format inconnu : {data.get('format')!r}")
        return cls(
            name=str(data["name"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            database=str(data["database"]),
            schema_revision=data["schema_revision"],
            dump_sha256=str(data["dump"]["sha256"]),
            dump=_parse(data["dump"]),
            journal_head=dict(data["journal_head"]),
            blobs={str(sha): _parse(c) for sha, c in data["blobs"].items()},
        )


def _copy(copy: Copy) -> dict[str, Any]:
    return {"stored": copy.stored, "size": copy.size, "key": copy.key_id}


def _parse(data: dict[str, Any]) -> Copy:
    key = data["key"]
    return Copy(
        stored=str(data["stored"]), size=int(data["size"]), key_id=None if key is None else str(key)
    )
