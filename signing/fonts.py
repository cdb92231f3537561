"""Fonts for signature appearances: embedding a font subset in the PDF, fast.

pyHanko embeds a whole TrueType font and measures glyphs itself; a signature stamp needs a few
dozen glyphs. This module chooses the font and hands pyHanko a font engine that writes the
subset; the font is prepared once per process (`font_preparation`: read, cut down to Latin,
parsed for HarfBuzz) and each signature measures with HarfBuzz and subsets it, the subset
cached per font and glyph set (`font_subsetting`). Split from `appearance.py` (the stamp's
text and style), which uses it through `EmbeddedFontFactory`.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont
from pyhanko.pdf_utils.font.api import FontEngineFactory
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.pdf_utils.xref import ObjectStream

from signing.errors import InvalidSpecError
from signing.font_preparation import prepared_font
from signing.font_subsetting import PdfUnitsGlyphAccumulator

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbeddedFontFactory(FontEngineFactory):
    """Like pyHanko's ``GlyphAccumulatorFactory``, with three fixes.

    The font is chosen only when pyHanko draws the text, so invisible fields
    never trigger a missing-glyph warning; the font work that does not depend
    on the text is done once per process (see :func:`prepared_font`) instead
    of at every signature (pyHanko also reopens the file every time and never
    closes the handle); glyph metrics are written in PDF units (see
    :class:`PdfUnitsGlyphAccumulator`).
    """

    fonts: tuple[Path, ...]
    text: str
    font_size: int

    def create_font_engine(
        self, writer: BasePdfFileWriter, obj_stream: ObjectStream | None = None
    ) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs:
            obj_stream = writer.prepare_object_stream()  # type: ignore[no-untyped-call]
        prepared = prepared_font(choose_font(self.text, self.fonts))
        return PdfUnitsGlyphAccumulator(
            writer=writer,
            font=prepared.variant_for(self.text),
            font_size=self.font_size,
            obj_stream=obj_stream,
        )


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
