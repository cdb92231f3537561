"""Fonts for signature appearances: embedding a font subset in the PDF, fast.

pyHanko embeds a whole TrueType font and measures glyphs itself; a signature stamp needs a few
dozen glyphs. This module subsets the font once per font and glyph set (cached), measures with
HarfBuzz, and hands pyHanko a font engine that writes the subset. Split from `appearance.py`
(the stamp's text and style), which uses it through `EmbeddedFontFactory`.
"""

from __future__ import annotations

import functools
import logging
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import uharfbuzz as hb
from fontTools import subset
from fontTools.ttLib import TTFont
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.api import FontEngineFactory
from pyhanko.pdf_utils.font.opentype import CIDFontType2, GlyphAccumulator
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.pdf_utils.xref import ObjectStream

from signing.errors import InvalidSpecError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbeddedFontFactory(FontEngineFactory):
    """Like pyHanko's ``GlyphAccumulatorFactory``, with three fixes.

    The font is chosen only when pyHanko draws the text, so invisible fields
    never trigger a missing-glyph warning; the font work that does not depend
    on the text is done once per process (see :func:`_prepared_font`) instead
    of at every signature (pyHanko also reopens the file every time and never
    closes the handle); glyph metrics are written in PDF units (see
    :class:`_PdfUnitsGlyphAccumulator`).
    """

    fonts: tuple[Path, ...]
    text: str
    font_size: int

    def create_font_engine(
        self, writer: BasePdfFileWriter, obj_stream: ObjectStream | None = None
    ) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs:
            obj_stream = writer.prepare_object_stream()  # type: ignore[no-untyped-call]
        prepared = _prepared_font(choose_font(self.text, self.fonts))
        return _PdfUnitsGlyphAccumulator(
            writer=writer,
            font=prepared.variant_for(self.text),
            font_size=self.font_size,
            obj_stream=obj_stream,
        )


class _PdfUnitsGlyphAccumulator(GlyphAccumulator):
    """Writes glyph widths in PDF glyph space (1000 units per em).

    pyHanko 0.38 writes the font's own units into /W and into TJ kerning
    offsets. That is only right for fonts with 1000 units per em (most CFF
    fonts); with TrueType fonts, usually 2048 (DejaVu included), every glyph
    is drawn twice as far apart as it should and the text overflows the box.
    Asking HarfBuzz for positions at a 1000-unit scale and scaling the widths
    to match makes all of pyHanko's arithmetic come out in PDF units.

    Shapes with the font's process-wide HarfBuzz face (its layout tables are
    parsed once, on first use) and subsets a copy of the font from which the
    layout tables are already gone (see :class:`_FontVariant`).
    """

    def __init__(
        self,
        *,
        writer: BasePdfFileWriter,
        font: _FontVariant,
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

    def subset_key(self) -> tuple[_FontVariant, frozenset[int]]:
        """What the embedded TrueType subset depends on: the font and the glyph ids kept
        (glyph ids are retained, so the program does not depend on anything else)."""
        return self._variant, frozenset(self._glyphs) | self._variant.always_embedded

    def _extract_subset(self, options: subset.Options | None = None) -> None:
        if not isinstance(self.cidfont_obj, _CachedFontFileType2):
            # CFF fonts: pyHanko's way (the layout tables are already gone from
            # the copy being subset, see _FontVariant; listed again in case).
            if options is None:
                options = subset.Options(layout_closure=False)
                options.drop_tables += list(_DROPPED_BEFORE_SUBSETTING)
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
        options.drop_tables += list(_DROPPED_BEFORE_SUBSETTING)
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
        accumulator: _PdfUnitsGlyphAccumulator,
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
    digits are always embedded, see _FontVariant.always_embedded), so the
    same signer (the vendor's countersigner, the platform) gets the same
    program every time: subsetting, saving and compressing it is done once.
    Entries are a few KB (DejaVu Sans: ~6 KB for a Latin signature).
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[_FontVariant, frozenset[int]], bytes] = OrderedDict()

    def get(self, key: tuple[_FontVariant, frozenset[int]]) -> bytes | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: tuple[_FontVariant, frozenset[int]], value: bytes) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_FONT_FILES = _FontFileCache(256)

# Characters whose glyphs every embedded subset has: those of the date and
# time, which change from one signature to the next.
_ALWAYS_EMBEDDED = "0123456789"

# Tables the embedded subset never contains. A PDF viewer needs only outlines,
# advances and hinting: the layout tables serve shaping, which HarfBuzz has
# done before the subset is cut (GSUB, GPOS, GDEF), or math typesetting
# (MATH); FontForge's FFTM timestamp is one fontTools cannot subset (it logs a
# warning about it). Removing them from the source once per process spares
# fontTools decoding them at every signature, which was most of its work.
_DROPPED_BEFORE_SUBSETTING = ("GPOS", "GDEF", "GSUB", "MATH", "FFTM")

# What the common cut of a font covers: Basic Latin, Latin-1, Latin Extended-A
# and -B (every European Latin-script name), general punctuation (dashes,
# quotes, ellipsis) and the euro sign.
_LATIN_COVERAGE = frozenset(
    [
        *range(0x20, 0x7F),
        *range(0xA0, 0x250),
        *range(0x2010, 0x2060),
        0x20AC,
    ]
)


@dataclass(frozen=True, eq=False)
class _FontVariant:
    """One font program ready to draw with: built once, shared by every signature.

    ``subset_source`` is the font without the tables in
    :data:`_DROPPED_BEFORE_SUBSETTING`, what each signature parses and
    subsets; ``hb_face`` is the HarfBuzz face of the same font with its layout
    tables, glyph for glyph the same ids. Both are immutable: sharing them
    between threads is safe.
    """

    subset_source: bytes
    hb_face: hb.Face
    codepoints: frozenset[int]
    # Glyph ids always put in the embedded subset (the digits), so that the
    # subset, and the cache of it (see _FontFileCache), does not change with
    # the date and time drawn in each signature.
    always_embedded: frozenset[int] = frozenset()
    # Advance widths in font units, by glyph id.
    advance_widths: tuple[int, ...] = ()


@dataclass(frozen=True, eq=False)
class _PreparedFont:
    """A font file's variants: a small Latin cut when worth it, and the whole font."""

    full: _FontVariant
    latin: _FontVariant | None

    def variant_for(self, text: str) -> _FontVariant:
        """The Latin cut if it has every character of ``text``, else the whole font.

        Line breaks are never drawn; every other character, spaces included,
        must be in the cut, so shaping with the cut gives exactly what the
        whole font would.
        """
        if self.latin is not None:
            needed = {ord(c) for c in text if c not in "\r\n"}
            if needed <= self.latin.codepoints:
                return self.latin
        return self.full


class _PreparedFontCache:
    """Process-wide: font path -> :class:`_PreparedFont`, each built exactly once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fonts: dict[Path, _PreparedFont] = {}

    def get(self, font: Path, build: Callable[[Path], _PreparedFont]) -> _PreparedFont:
        prepared = self._fonts.get(font)  # a dict read is atomic: no lock once built
        if prepared is None:
            with self._lock:
                prepared = self._fonts.get(font)
                if prepared is None:
                    prepared = self._fonts[font] = build(font)
        return prepared


_PREPARED_FONTS = _PreparedFontCache()


def _prepared_font(font: Path) -> _PreparedFont:
    """The font ready to draw with; read, cut and parsed once per process."""
    return _PREPARED_FONTS.get(font, _prepare_font)


def _prepare_font(font: Path) -> _PreparedFont:
    # The expensive part, a few hundred milliseconds for DejaVu Sans: only
    # ever called through _prepared_font's cache.
    try:
        data = font.read_bytes()
        full = _variant(data)
    except Exception as exc:  # fontTools raises assorted bare exceptions on bad input
        raise InvalidSpecError(f"cannot read font {font}: {exc}") from exc
    try:
        latin = _latin_cut(data, full)
    except Exception:  # the cut only saves time: never let it stop a signature
        logger.warning("cannot cut %s down to Latin; it is used whole", font.name, exc_info=True)
        latin = None
    return _PreparedFont(full=full, latin=latin)


def _variant(data: bytes) -> _FontVariant:
    # recalcBBoxes=False: the head table's bounding box, which pyHanko copies
    # into the PDF font descriptor, stays that of the original font.
    with TTFont(BytesIO(data), recalcBBoxes=False, recalcTimestamp=False) as tt:
        cmap = tt.getBestCmap() or {}
        codepoints = frozenset(cmap)
        always = frozenset(tt.getGlyphID(cmap[ord(c)]) for c in _ALWAYS_EMBEDDED if ord(c) in cmap)
        metrics = tt["hmtx"].metrics
        advance_widths = tuple(metrics[name][0] for name in tt.getGlyphOrder())
        if "GPOS" in tt and "kern" in tt:
            # fontTools drops a legacy kern table when GPOS has the kerning.
            del tt["kern"]
        for tag in _DROPPED_BEFORE_SUBSETTING:
            if tag in tt:
                del tt[tag]
        source = BytesIO()
        tt.save(source)
    return _FontVariant(
        subset_source=source.getvalue(),
        hb_face=hb.Face(data),
        codepoints=codepoints,
        always_embedded=always,
        advance_widths=advance_widths,
    )


def _latin_cut(data: bytes, full: _FontVariant) -> _FontVariant | None:
    """The font cut down to :data:`_LATIN_COVERAGE`, or None if that saves little.

    Subsetting costs in proportion to the font's size: DejaVu Sans has 6,253
    glyphs, its Latin cut about 700. The cut keeps every layout feature
    (kerning, ligatures, marks) and all hinting, so Latin text is shaped and
    drawn exactly as with the whole font. Only TrueType-outline fonts are cut:
    CID-keyed CFF fonts number their glyphs by CID, which a cut must not touch.
    """
    with TTFont(BytesIO(data), recalcBBoxes=False, recalcTimestamp=False) as tt:
        if "glyf" not in tt:
            return None
        options = subset.Options(
            layout_features=["*"],
            legacy_kern=True,
            notdef_outline=True,
            glyph_names=True,
            recalc_bounds=False,
        )
        options.drop_tables += ["FFTM"]
        subsetter = subset.Subsetter(options=options)
        subsetter.populate(unicodes=_LATIN_COVERAGE & full.codepoints)
        subsetter.subset(tt)
        if 2 * len(tt.getGlyphOrder()) > full.hb_face.glyph_count:
            return None
        cut = BytesIO()
        tt.save(cut)
    return _variant(cut.getvalue())


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


@functools.cache
def _codepoints(font: Path) -> frozenset[int]:
    # Parsing the cmap of a large font takes milliseconds: once per process.
    try:
        with TTFont(font, lazy=True) as tt:
            cmap = tt.getBestCmap() or {}
    except Exception as exc:  # fontTools raises assorted bare exceptions on bad input
        raise InvalidSpecError(f"cannot read font {font}: {exc}") from exc
    return frozenset(cmap)


def choose_font(text: str, fonts: tuple[Path, ...]) -> Path:
    """The first font that has a glyph for every character of ``text``.

    If none has them all, the one missing the fewest is used and the gap is
    logged: the signature stays valid, only some glyphs show as boxes, and
    refusing to sign over a missing glyph would block a signer for cosmetics.
    """
    needed = {ord(c) for c in text if not c.isspace()}
    best, best_missing = fonts[0], needed
    for font in fonts:
        missing = needed - _codepoints(font)
        if not missing:
            return font
        if len(missing) < len(best_missing):
            best, best_missing = font, missing
    logger.warning(
        "no configured font covers %s; using %s, these characters will show as boxes",
        "".join(sorted(map(chr, best_missing))),
        best.name,
    )
    return best
