"""Opening PDFs with pyHanko, with pyHanko's read errors turned into ours."""

from __future__ import annotations

from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields

from signing.errors import InvalidPdfError


def open_reader(pdf: bytes) -> PdfFileReader:
    try:
        reader = PdfFileReader(BytesIO(pdf))
        _check_readable(reader)
    except InvalidPdfError:
        raise
    except (PdfError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise InvalidPdfError(f"not a readable PDF: {exc}") from exc
    return reader


def open_for_update(pdf: bytes) -> IncrementalPdfFileWriter:
    """A writer that appends an incremental update: earlier revisions stay byte-identical."""
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf))
        _check_readable(writer.prev)
    except InvalidPdfError:
        raise
    except (PdfError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise InvalidPdfError(f"not a readable PDF: {exc}") from exc
    return writer


def signature_fields(reader: PdfFileReader) -> dict[str, bool]:
    """Fully qualified name of each signature field -> whether it is already signed."""
    return {name: value is not None for name, value, _ref in enumerate_sig_fields(reader)}


def page_count(reader: PdfFileReader) -> int:
    count = reader.root["/Pages"]["/Count"]
    return int(count)


def page_size(reader: PdfFileReader, page_index: int) -> tuple[float, float, float, float] | None:
    """The page's MediaBox (inherited from the page tree if need be), if any."""
    page_ref, _resources = reader.find_page_for_modification(page_index)  # type: ignore[no-untyped-call]
    node: generic.PdfObject | None = page_ref.get_object()
    while isinstance(node, generic.DictionaryObject):
        if "/MediaBox" in node:
            x1, y1, x2, y2 = (float(v) for v in node["/MediaBox"])
            return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
    return None


def _check_readable(reader: PdfFileReader) -> None:
    # Signing an encrypted PDF needs its password and changes how fields are
    # written; no Paraphe document is encrypted, so refuse clearly.
    if reader.encrypted:
        raise InvalidPdfError("encrypted PDFs are not supported")
    if "/Pages" not in reader.root:
        raise InvalidPdfError("not a PDF document: no page tree")
