"""The restitution's manifest (JSON, sealed) and index (CSV): their entries, kept in a
temporary file while the archive is written, and their bytes, written entry by entry."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

MANIFEST_FORMAT = "paraphe-restitution/2"

INDEX_COLUMNS = (
    "path",
    "sha256",
    "size",
    "kind",
    "reference",
    "version",
    "created_at",
    "retention_until",
    "retention_basis",
)


@dataclass(frozen=True)
class ManifestEntry:
    path: str
    sha256: str
    size: int
    kind: str
    reference: str
    version: int
    created_at: str
    retention_until: str | None
    retention_basis: str | None


@dataclass(frozen=True)
class ClientIdentity:
    """The client as the manifest names it, read in a transaction and used after it."""

    id: int
    legal_name: str
    siren: str | None
    terminated_on: date | None


_SCALARS = (str, int, float, bool, type(None))


def _item_json(item: Any) -> str:
    """``json.dumps(item, ensure_ascii=False, indent=2)``. With `indent`, json falls back to
    its pure-Python encoder, which cost more than hashing the files for 10,000 small
    documents; a flat object (a manifest entry) is therefore encoded by json's C encoder,
    given as separators what `indent=2` puts between the members of a flat object."""
    if (
        isinstance(item, dict)
        and item
        and all(isinstance(k, str) and isinstance(v, _SCALARS) for k, v in item.items())
    ):
        members = json.dumps(item, ensure_ascii=False, separators=(",\n  ", ": "))
        return "{\n  " + members[1:-1] + "\n}"
    return json.dumps(item, ensure_ascii=False, indent=2)


def json_array_chunks(items: Iterable[Any], *, depth: int = 0) -> Iterator[bytes]:
    """The bytes of ``json.dumps(list(items), ensure_ascii=False, indent=2)``, item by item,
    for an array nested `depth` levels deep: the manifest and the journal excerpt are written
    without building the whole list. JSON strings hold no raw newline, so re-indenting each
    item's lines is exact (tests compare with json.dumps)."""
    inner = "\n" + "  " * (depth + 1)
    separator = "["
    for item in items:
        yield (separator + inner + _item_json(item).replace("\n", inner)).encode("utf-8")
        separator = ","
    yield ("[]" if separator == "[" else "\n" + "  " * depth + "]").encode("utf-8")


def manifest_head(client: ClientIdentity, now: datetime, signer: str) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "client": {
            "id": client.id,
            "legal_name": client.legal_name,
            "siren": client.siren,
            "terminated_on": client.terminated_on.isoformat() if client.terminated_on else None,
        },
        "generated_at": now.isoformat(),
        "seal": {
            "file": "manifest.json.p7s",
            "format": "CMS SignedData détaché (RFC 5652), SHA-256",
            "signer": signer,
        },
    }


def manifest_chunks(head: dict[str, Any], entries: Iterable[ManifestEntry]) -> Iterator[bytes]:
    """``json.dumps({**head, "files": [asdict(e) for e in entries]}, ensure_ascii=False,
    indent=2)``, written entry by entry."""
    opening = json.dumps({**head, "files": []}, ensure_ascii=False, indent=2)
    yield opening.removesuffix("[]\n}").encode("utf-8")
    # vars() rather than asdict(): no deep copy (the fields are scalars), same field order.
    yield from json_array_chunks((dict(vars(entry)) for entry in entries), depth=1)
    yield b"\n}"


class EntrySpool:
    """The manifest entries, one JSON line each in a temporary file rather than a list: the
    manifest and index.csv are written from it at the end, in the order entries were added."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self.paths: list[str] = []
        self._used: set[str] = set()

    def unique(self, path: str, discriminator: int) -> str:
        """`path`, or `path` with `discriminator` before its extension if already taken."""
        if path in self._used:
            stem, dot, ext = path.rpartition(".")
            path = f"{stem}-{discriminator}.{ext}" if dot else f"{path}-{discriminator}"
        self._used.add(path)
        return path

    def add(self, entry: ManifestEntry) -> None:
        self._file.write(json.dumps(list(vars(entry).values()), ensure_ascii=False) + "\n")
        self.paths.append(entry.path)

    def __iter__(self) -> Iterator[ManifestEntry]:
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            yield ManifestEntry(*json.loads(line))
        self._file.seek(0, io.SEEK_END)


_CSV_FLUSH = 1 << 16
"""Characters of index.csv buffered before they are written: a StringIO of 1 M characters
with one accented letter costs several MB (wide storage, then the copy and the encoding)."""


def index_csv(entries: Iterable[ManifestEntry]) -> Iterator[bytes]:
    """index.csv, a row at a time, as the other CSV exports: `;` between columns and a BOM
    first, so that a French spreadsheet opens it as is (accents read as UTF-8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(INDEX_COLUMNS)
    for entry in entries:
        row = vars(entry)
        writer.writerow([_csv_cell(row[column]) for column in INDEX_COLUMNS])
        if buffer.tell() >= _CSV_FLUSH:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ would be a formula in a spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
