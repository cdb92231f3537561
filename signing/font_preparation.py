"""Fonts prepared once per process: read, stripped of the tables no signature embeds, cut
down to Latin when that saves work, and parsed for HarfBuzz; every signature shares them.

What each signature then does with them is in `signing.font_subsetting`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import uharfbuzz as hb
from fontTools import subset
from fontTools.ttLib import TTFont

from signing.errors import InvalidSpecError

logger = logging.getLogger(__name__)

# Characters whose glyphs every embedded subset has: those of the date and
# time, which change from one signature to the next.
_ALWAYS_EMBEDDED = "0123456789"

# Tables the embedded subset never contains. A PDF viewer needs only outlines,
# advances and hinting: the layout tables serve shaping, which HarfBuzz has
# done before the subset is cut (GSUB, GPOS, GDEF), or math typesetting
# (MATH); FontForge's FFTM timestamp is one fontTools cannot subset (it logs a
# warning about it). Removing them from the source once per process spares
# fontTools decoding them at every signature, which was most of its work.
DROPPED_BEFORE_SUBSETTING = ("GPOS", "GDEF", "GSUB", "MATH", "FFTM")

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
class FontVariant:
    """One font program ready to draw with: built once, shared by every signature.

    ``subset_source`` is the font without the tables in
    :data:`DROPPED_BEFORE_SUBSETTING`, what each signature parses and
    subsets; ``hb_face`` is the HarfBuzz face of the same font with its layout
    tables, glyph for glyph the same ids. Both are immutable: sharing them
    between threads is safe.
    """

    subset_source: bytes
    hb_face: hb.Face
    codepoints: frozenset[int]
    # Glyph ids always put in the embedded subset (the digits), so that the
    # subset, and the cache of it (see font_subsetting._FontFileCache), does
    # not change with the date and time drawn in each signature.
    always_embedded: frozenset[int] = frozenset()
    # Advance widths in font units, by glyph id.
    advance_widths: tuple[int, ...] = ()


@dataclass(frozen=True, eq=False)
class PreparedFont:
    """A font file's variants: a small Latin cut when worth it, and the whole font."""

    full: FontVariant
    latin: FontVariant | None

    def variant_for(self, text: str) -> FontVariant:
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
    """Process-wide: font path -> :class:`PreparedFont`, each built exactly once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fonts: dict[Path, PreparedFont] = {}

    def get(self, font: Path, build: Callable[[Path], PreparedFont]) -> PreparedFont:
        prepared = self._fonts.get(font)  # a dict read is atomic: no lock once built
        if prepared is None:
            with self._lock:
                prepared = self._fonts.get(font)
                if prepared is None:
                    prepared = self._fonts[font] = build(font)
        return prepared


_PREPARED_FONTS = _PreparedFontCache()


def prepared_font(font: Path) -> PreparedFont:
    """The font ready to draw with; read, cut and parsed once per process."""
    return _PREPARED_FONTS.get(font, _prepare_font)


def _prepare_font(font: Path) -> PreparedFont:
    # The expensive part, a few hundred milliseconds for DejaVu Sans: only
    # ever called through prepared_font's cache.
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
    return PreparedFont(full=full, latin=latin)


def _variant(data: bytes) -> FontVariant:
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
        for tag in DROPPED_BEFORE_SUBSETTING:
            if tag in tt:
                del tt[tag]
        source = BytesIO()
        tt.save(source)
    return FontVariant(
        subset_source=source.getvalue(),
        hb_face=hb.Face(data),
        codepoints=codepoints,
        always_embedded=always,
        advance_widths=advance_widths,
    )


def _latin_cut(data: bytes, full: FontVariant) -> FontVariant | None:
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
