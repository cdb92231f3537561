"""Each signature's font work: shaping with HarfBuzz in PDF units, and cutting and embedding
the TrueType subset, whose compressed program is cached per font and glyph set.

The font it works from is prepared once per process (`signing.font_preparation`).
"""

from __future__ import annotations

import struct
import threading
from collections import OrderedDict
from io import BytesIO
from typing import Any

import uharfbuzz as hb
from fontTools import subset
from fontTools.ttLib import TTFont
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.opentype import CIDFontType2, GlyphAccumulator
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.pdf_utils.xref import ObjectStream

from signing.font_preparation import DROPPED_BEFORE_SUBSETTING, FontVariant


class PdfUnitsGlyphAccumulator(GlyphAccumulator):
    """Writes glyph widths in PDF glyph space (1000 units per em).

    pyHanko 0.38 writes the font's own units into /W and into TJ kerning
    offsets. That is only right for fonts with 1000 units per em (most CFF
    fonts); with TrueType fonts, usually 2048 (DejaVu included), every glyph
    is drawn twice as far apart as it should and the text overflows the box.
    Asking HarfBuzz for positions at a 1000-unit scale and scaling the widths
    to match makes all of pyHanko's arithmetic come out in PDF units.

    Shapes with the font's process-wide HarfBuzz face (its layout tables are
    parsed once, on first use) and subsets a copy of the font from which the
    layout tables are already gone (see :class:`FontVariant`).
    """

    def __init__(
        self,
        *,
        writer: BasePdfFileWriter,
        font: FontVariant,
        font_size: int,
        obj_stream: ObjectStream | None,
    ) -> None:
        # pyHanko parses this copy with fontTools for metrics and subsetting
        # (destructively: hence a fresh parse per signature, from memory).
        super().__init__(
            writer=writer,
            font_handle=BytesIO(font.subset_source),
            font_size=font_size,
            obj_stream=obj_stream,
        )
        self._font_units_per_em: int = self.units_per_em
        self.units_per_em = _PDF_GLYPH_UNITS
        # Shape with the shared face, which has GSUB/GPOS (kerning) and the
        # same glyph ids. (pyHanko's constructor made a face of its own from
        # subset_source: cheap, HarfBuzz reads tables only when shaping.)
        self.hb_font = hb.Font(font.hb_face)
        self.hb_font.scale = (_PDF_GLYPH_UNITS, _PDF_GLYPH_UNITS)
        self._variant = font
        # The embedded font program, once known: from the cache, or saved
        # after subsetting (see _extract_subset and _CachedFontFileType2).
        self.font_file: bytes | None = None
        if isinstance(self.cidfont_obj, CIDFontType2) and "glyf" in self.tt:
            prefix = f"{self.subset_prefix}+" if self.subset_prefix else ""
            self.cidfont_obj = _CachedFontFileType2(
                self.tt, self.cidfont_obj.name.removeprefix(prefix), self.subset_prefix, self
            )

    def subset_key(self) -> tuple[FontVariant, frozenset[int]]:
        """What the embedded TrueType subset depends on: the font and the glyph ids kept
        (glyph ids are retained, so the program does not depend on anything else)."""
        return self._variant, frozenset(self._glyphs) | self._variant.always_embedded

    def _extract_subset(self, options: subset.Options | None = None) -> None:
        if not isinstance(self.cidfont_obj, _CachedFontFileType2):
            # CFF fonts: pyHanko's way (the layout tables are already gone from
            # the copy being subset, see FontVariant; listed again in case).
            if options is None:
                options = subset.Options(layout_closure=False)
                options.drop_tables += list(DROPPED_BEFORE_SUBSETTING)
            super()._extract_subset(options)
            return
        # Most of a signature's font work, skipped when the same glyphs (the
        # same signer's name, reason and date format) were embedded before.
        self.font_file = _FONT_FILES.get(self.subset_key())
        if self.font_file is None:
            self._subset_truetype()

    def _subset_truetype(self) -> None:
        # pyHanko's _extract_subset with its defaults for TrueType (glyph ids
        # retained, layout tables dropped), keeping the always-embedded glyphs.
        options = subset.Options(layout_closure=False)
        options.drop_tables += list(DROPPED_BEFORE_SUBSETTING)
        options.retain_gids = True
        subsetter = subset.Subsetter(options=options)
        subsetter.populate(gids=sorted(self.subset_key()[1]))
        subsetter.subset(self.tt)
        # By default fontTools' save decodes, re-measures and re-encodes every
        # glyph kept, only to recompute bounding boxes already in each glyph's
        # header: about 10 ms per signature. The glyphs are copied byte for
        # byte instead and the font-wide values computed from their headers;
        # maxp keeps the whole font's maxima, upper bounds that the subset
        # stays within.
        _set_font_extents(self.tt)
        self.tt.recalcBBoxes = False

    def _get_cid_and_width(self, glyph_id: int) -> tuple[int, int]:
        if glyph_id not in self._glyphs:
            widths = self._variant.advance_widths
            if self.use_raw_gids and glyph_id < len(widths):
                # TrueType: the CID is the glyph id; the width comes from the
                # variant's table, read once per process (pyHanko would decode
                # the post and hmtx tables of this signature's copy for it).
                cid, width = glyph_id, widths[glyph_id]
            else:
                cid, width = super()._get_cid_and_width(glyph_id)
            self._glyphs[glyph_id] = (
                cid,
                round(width * _PDF_GLYPH_UNITS / self._font_units_per_em),
            )
        return self._glyphs[glyph_id]


_PDF_GLYPH_UNITS = 1000


class _CachedFontFileType2(CIDFontType2):
    """pyHanko's TrueType CID font, embedding its program from the cache when it can.

    The font descriptor (metrics of the whole font, read before subsetting)
    and the /W widths do not depend on the subset; the program does, on the
    glyphs kept only.
    """

    def __init__(
        self,
        tt: TTFont,
        base_ps_name: str,
        subset_prefix: str | None,
        accumulator: PdfUnitsGlyphAccumulator,
    ) -> None:
        super().__init__(tt, base_ps_name, subset_prefix)
        self._accumulator = accumulator

    def set_font_file(self, writer: BasePdfFileWriter) -> generic.IndirectObject:
        accumulator = self._accumulator
        encoded = accumulator.font_file
        if encoded is None:
            program = BytesIO()
            self.tt_font.save(program)
            stream = generic.StreamObject(stream_data=program.getvalue())
            stream.compress()  # type: ignore[no-untyped-call]
            encoded = stream.encoded_data
            _FONT_FILES.put(accumulator.subset_key(), encoded)
        font_stream = generic.StreamObject(
            {pdf_name("/Filter"): pdf_name("/FlateDecode")}, encoded_data=encoded
        )
        reference = writer.add_object(font_stream)
        self._font_descriptor[pdf_name("/FontFile2")] = reference
        return reference


class _FontFileCache:
    """Process-wide LRU: (font, glyph ids) -> compressed embedded font program.

    A signer's name, the reason and the date format fix the glyphs drawn (the
    digits are always embedded, see FontVariant.always_embedded), so the
    same signer (the vendor's countersigner, the platform) gets the same
    program every time: subsetting, saving and compressing it is done once.
    Entries are a few KB (DejaVu Sans: ~6 KB for a Latin signature).
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[FontVariant, frozenset[int]], bytes] = OrderedDict()

    def get(self, key: tuple[FontVariant, frozenset[int]]) -> bytes | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: tuple[FontVariant, frozenset[int]], value: bytes) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_FONT_FILES = _FontFileCache(256)


def _set_font_extents(tt: TTFont) -> None:
    """What fontTools recomputes on saving a TrueType font, from the glyph headers.

    head's bounding box and hhea's extremes, as ``TTFont.save`` computes
    them with ``recalcBBoxes``, but reading each glyph's box from its header
    instead of decoding (and then re-encoding) its outline.
    """
    glyphs = tt["glyf"].glyphs
    metrics = tt["hmtx"].metrics
    boxes = {name: box for name, glyph in glyphs.items() if (box := _glyph_box(glyph))}
    head, hhea = tt["head"], tt["hhea"]
    hhea.advanceWidthMax = max((advance for advance, _lsb in metrics.values()), default=0)
    if not boxes:
        head.xMin = head.yMin = head.xMax = head.yMax = 0
        hhea.minLeftSideBearing = hhea.minRightSideBearing = hhea.xMaxExtent = 0
        return
    head.xMin = min(box[0] for box in boxes.values())
    head.yMin = min(box[1] for box in boxes.values())
    head.xMax = max(box[2] for box in boxes.values())
    head.yMax = max(box[3] for box in boxes.values())
    bearings = []
    for name, (x_min, _y_min, x_max, _y_max) in boxes.items():
        advance, lsb = metrics[name]
        bearings.append((lsb, advance - lsb - (x_max - x_min), lsb + x_max - x_min))
    hhea.minLeftSideBearing = min(b[0] for b in bearings)
    hhea.minRightSideBearing = min(b[1] for b in bearings)
    hhea.xMaxExtent = max(b[2] for b in bearings)


def _glyph_box(glyph: Any) -> tuple[int, int, int, int] | None:
    data = getattr(glyph, "data", None)
    if data is not None:  # not decoded: the box is in the glyph header
        if len(data) < _GLYPH_HEADER.size:
            return None
        contours, x_min, y_min, x_max, y_max = _GLYPH_HEADER.unpack_from(data)
        return (x_min, y_min, x_max, y_max) if contours else None
    if not glyph.numberOfContours:
        return None
    return (glyph.xMin, glyph.yMin, glyph.xMax, glyph.yMax)


_GLYPH_HEADER = struct.Struct(">hhhhh")  # numberOfContours, xMin, yMin, xMax, yMax
