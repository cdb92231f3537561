"""What a visible signature looks like: text, font, frame.

Every appearance uses an embedded OpenType font. pyHanko's default is a
non-embedded Courier, which breaks PDF/A and garbles accented or non-Latin
names. DejaVu Sans is bundled so that signing works without system fonts; it
covers Latin, Greek and Cyrillic scripts but no CJK, so deployments serving
CJK names add a font that has them (e.g. Noto Sans CJK) to
:attr:`AppearanceStyle.fonts`: the first font covering the whole text is used.

Each font is prepared once per process, on first use (a few hundred
milliseconds for DejaVu Sans): read, stripped of the tables a PDF never needs,
cut down to Latin coverage for the common case, and given its HarfBuzz face.
Every signature then only subsets that prepared copy, and the subset font
program, compressed, is kept per font and glyph set (see font_subsetting): the
same signer's next signature embeds it without subsetting again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.stamp import TextStampStyle

from signing.errors import InvalidSpecError
from signing.fonts import EmbeddedFontFactory, choose_font

__all__ = ["BUNDLED_FONT", "AppearanceStyle", "appearance_text", "choose_font"]

logger = logging.getLogger(__name__)

BUNDLED_FONT = Path(__file__).parent / "fonts" / "DejaVuSans.ttf"

# The stamp template receives the whole text as one parameter, so that a '%'
# in a signer's name is never read as a formatting directive.
_TEXT_PARAM = "paraphe_text"


@dataclass(frozen=True)
class AppearanceStyle:
    """How visible signatures are drawn; the default needs nothing outside this package."""

    fonts: tuple[Path, ...] = (BUNDLED_FONT,)
    font_size: int = 10
    border_width: int = 1
    date_format: str = "%d/%m/%Y %H:%M %Z"

    def __post_init__(self) -> None:
        if not self.fonts:
            raise InvalidSpecError("AppearanceStyle.fonts needs at least one font")
        missing = [str(font) for font in self.fonts if not font.is_file()]
        if missing:
            # Checked here, at configuration time, rather than halfway
            # through drawing a signature.
            raise InvalidSpecError(f"font files not found: {', '.join(missing)}")
        if self.font_size <= 0:
            raise InvalidSpecError("font_size must be positive")


def appearance_text(
    style: AppearanceStyle,
    signer_name: str,
    signed_at: datetime,
    reason: str | None,
    location: str | None,
) -> str:
    """The lines drawn in a visible signature field (French: Paraphe's documents are)."""
    lines = ["Signé électroniquement par", _one_line(signer_name)]
    lines.append(f"le {signed_at.strftime(style.date_format)}")
    if reason:
        lines.append(f"Motif : {_one_line(reason)}")
    if location:
        lines.append(f"Lieu : {_one_line(location)}")
    return "\n".join(lines)


def stamp_style(text: str, style: AppearanceStyle) -> tuple[TextStampStyle, dict[str, str]]:
    """pyHanko stamp style and text parameters for ``text``."""
    # The engine and the text box must share one font size, or pyHanko
    # misplaces every line after the first (pyHanko issue #733).
    text_box = TextBoxStyle(
        font=EmbeddedFontFactory(style.fonts, text, style.font_size),
        font_size=style.font_size,
        leading=round(style.font_size * 1.25),
    )
    stamp = TextStampStyle(
        stamp_text=f"%({_TEXT_PARAM})s",
        text_box_style=text_box,
        border_width=style.border_width,
        background=None,
    )
    return stamp, {_TEXT_PARAM: text}


def _one_line(value: str) -> str:
    # A newline in a name would push the other lines out of the box.
    return " ".join(value.split())
