"""Signature fields, created all at once in the document's first revision.

Every signer gets a pre-created field and later fills only that field: a
signer's mark is then the field's appearance, never new page content, which
is what keeps earlier signatures intact in Acrobat and pyHanko alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import SigFieldSpec, append_signature_field

from signing import _pdf
from signing.errors import InvalidSpecError, SignatureFieldError

__all__ = ["SignatureBox", "SignatureFieldSpec", "add_signature_fields"]


@dataclass(frozen=True)
class SignatureBox:
    """Where a visible signature goes.

    ``page`` is 0-based; negative counts from the end (-1 is the last page,
    handy when the signature page is last whatever the contract's length).
    Coordinates are PDF points (1/72 inch), origin at the page's bottom left.
    """

    page: int
    x1: float
    y1: float
    x2: float
    y2: float

    def __post_init__(self) -> None:
        coordinates = (self.x1, self.y1, self.x2, self.y2)
        if not all(math.isfinite(v) for v in coordinates):
            raise InvalidSpecError(f"signature box coordinates must be finite: {coordinates}")
        if not (self.x1 < self.x2 and self.y1 < self.y2):
            raise InvalidSpecError(f"signature box needs x1 < x2 and y1 < y2, got {coordinates}")


@dataclass(frozen=True)
class SignatureFieldSpec:
    """A signature field to create; ``box=None`` makes it invisible (e.g. the platform seal)."""

    name: str
    box: SignatureBox | None = None

    def __post_init__(self) -> None:
        # A period separates the parts of a fully qualified field name:
        # "a.b" would create field "b" under a parent "a".
        if not self.name or "." in self.name or not self.name.isprintable():
            raise InvalidSpecError(
                f"invalid signature field name {self.name!r}: non-empty, printable, no '.'"
            )


def add_signature_fields(pdf: bytes, fields: Sequence[SignatureFieldSpec]) -> bytes:
    """Return ``pdf`` with the given empty signature fields added, as one incremental update."""
    writer = _pdf.open_for_update(pdf)
    append_fields(writer, fields)
    out = BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


def append_fields(writer: IncrementalPdfFileWriter, fields: Sequence[SignatureFieldSpec]) -> None:
    """Add ``fields`` to a pending update (shared with certification, which adds and signs)."""
    if not fields:
        raise InvalidSpecError("no signature field to add")
    names = [f.name for f in fields]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidSpecError(f"signature field names repeated: {', '.join(duplicates)}")
    reader = writer.prev
    existing = sorted(set(names) & set(_pdf.signature_fields(reader)))
    if existing:
        raise SignatureFieldError(f"signature fields already exist: {', '.join(existing)}")
    pages = _pdf.page_count(reader)
    for spec in fields:
        append_signature_field(writer, _pyhanko_field(spec, reader, pages))


def _pyhanko_field(spec: SignatureFieldSpec, reader: PdfFileReader, pages: int) -> SigFieldSpec:
    if spec.box is None:
        # Invisible fields still belong to a page; the first is conventional.
        return SigFieldSpec(sig_field_name=spec.name, on_page=0)
    box = spec.box
    if not -pages <= box.page < pages:
        raise SignatureFieldError(
            f"field {spec.name!r}: page {box.page} does not exist (document has {pages})"
        )
    media_box = _pdf.page_size(reader, box.page)
    if media_box is not None:
        left, bottom, right, top = media_box
        if box.x1 < left or box.y1 < bottom or box.x2 > right or box.y2 > top:
            raise SignatureFieldError(
                f"field {spec.name!r}: box {(box.x1, box.y1, box.x2, box.y2)} "
                f"is outside page {box.page} {media_box}"
            )
    # pyHanko takes whole points; a fraction of a point is invisible anyway.
    return SigFieldSpec(
        sig_field_name=spec.name,
        on_page=box.page,
        box=(round(box.x1), round(box.y1), round(box.x2), round(box.y2)),
    )
