"""Scanning the store for the journal's sealed anchors while blobs come and go."""

from __future__ import annotations

from collections.abc import Iterator

from app.audit.sealing import read_sealed_anchors
from storage import MemoryBlobStore


class _ListsAVanishedBlob(MemoryBlobStore):
    """A store whose listing still names a blob deleted since (a purge running meanwhile)."""

    def iter_keys(self) -> Iterator[str]:
        yield "0" * 64
        yield from super().iter_keys()


def test_a_blob_deleted_while_scanning_is_passed_over() -> None:
    store = _ListsAVanishedBlob()
    store.put(b"%PDF-1.7 not an anchor")
    anchors, problems = read_sealed_anchors(store, trust_roots=[])
    assert (anchors, problems) == ([], [])
