"""The hash chain: pure functions, so `audit verify` and the writer share one definition."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_details(details: dict[str, Any] | None) -> str:
    return json.dumps(details or {}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def event_hash(
    *,
    prev_hash: str,
    event_id: int,
    at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    client_id: int | None,
    details: str,
) -> str:
    # The id is hashed too: deleting an event and renumbering the rest cannot go unnoticed.
    payload = json.dumps(
        [
            prev_hash,
            event_id,
            at.isoformat(timespec="microseconds"),
            actor,
            action,
            subject_type,
            subject_id,
            client_id,
            details,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
