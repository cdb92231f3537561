"""The restitution archive's JSON is written piece by piece: the bytes must be exactly those
json.dumps(…, ensure_ascii=False, indent=2) gives for the whole object (the sealed format)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import pytest

from app.archive.restitution.manifest import ManifestEntry, json_array_chunks, manifest_chunks

ITEMS: list[Any] = [
    {"id": 1, "details": {"nested": [1, 2, {"x": None}], "empty": {}, "list": []}},
    {"text": '« accentué » \n tab\t "quoted" \u2028 \\', "n": 1.5, "ok": True},
    {"text": "« é » \x00 \x7f \ud7ff \U0001f600 </script>", "ok": True, "no": False},
    {"none": None, "neg": -3, "big": 2**70, "ünï": "", "zero": 0},
    {"mixed": 1.5, "s": "float values take json's own path"},
    "plain",
    [],
    {},
]


@pytest.mark.parametrize("count", [0, 1, len(ITEMS)])
def test_array_chunks_are_json_dumps(count: int) -> None:
    items = ITEMS[:count]
    streamed = b"".join(json_array_chunks(iter(items)))
    assert streamed == json.dumps(items, ensure_ascii=False, indent=2).encode("utf-8")


@pytest.mark.parametrize("count", [0, 1, 3])
def test_manifest_chunks_are_json_dumps(count: int) -> None:
    head = {
        "format": "paraphe-restitution/2",
        "client": {"id": 7, "legal_name": "Zoé & Fils « SARL »", "terminated_on": None},
        "generated_at": datetime(2026, 3, 1, tzinfo=UTC).isoformat(),
        "seal": {"file": "manifest.json.p7s", "signer": "Paraphe"},
    }
    entries = [
        ManifestEntry(
            path=f"factures/FAC-{i}.pdf",
            sha256="ab" * 32,
            size=i * 1000,
            kind="invoice",
            reference=f"FAC-{i} « é »",
            version=1,
            created_at="2026-03-01T09:00:00+00:00",
            retention_until="2036-12-31" if i % 2 else None,
            retention_basis="10 ans" if i % 2 else None,
        )
        for i in range(count)
    ]
    streamed = b"".join(manifest_chunks(head, iter(entries)))
    whole = {**head, "files": [asdict(e) for e in entries]}
    assert streamed == json.dumps(whole, ensure_ascii=False, indent=2).encode("utf-8")
