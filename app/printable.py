"""What the user typed is what the contract prints.

- ``typed_text``: the one normalisation applied to free text typed by sales (particular terms,
  free clauses) before it is stored and printed: line endings made ``\\n`` (a browser sends
  ``\\r\\n``) and blank lines around the text dropped. Nothing else changes: no Markdown, no
  typography, spaces and line breaks inside the text kept.
- ``unprintable_character_problem``: a character the documents' bundled fonts have no glyph
  for (an emoji, a CJK ideograph …) prints as an empty box in the PDF/A, whose fonts are the
  bundled ones only (``templates/contracts/assets/fonts``). Such text is refused at input,
  naming the character, rather than printed wrong. The rule is read from the fonts themselves
  (their character maps): changing the fonts changes what is accepted.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

from fontTools.ttLib import TTFont

from app.messages import Message, msg
from app.plaintext import text_problem
from app.rendering.french import is_plural

FONTS_DIR = Path(__file__).resolve().parents[1] / "templates" / "contracts" / "assets" / "fonts"
"""The fonts every generated PDF embeds (contracts, CGV, invoices: ``Paraphe Sans``)."""

_LINE_BREAKS_OK = frozenset("\n\r\t")
MAX_LISTED = 5


def typed_text(value: str) -> str:
    """``value`` with ``\\n`` line endings, without blank lines before or trailing spaces after.

    Spaces at the start of the first line are kept (an indented first line is as typed)."""
    text = value.replace("\r\n", "\n").replace("\r", "\n").rstrip()
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)


@functools.cache
def printable_code_points(fonts_dir: Path = FONTS_DIR) -> frozenset[int]:
    """The characters every bundled font face (regular, bold, italic …) has a glyph for."""
    faces = sorted(fonts_dir.glob("*.ttf")) + sorted(fonts_dir.glob("*.otf"))
    if not faces:
        raise RuntimeError(f"aucune police dans {fonts_dir}")
    maps = []
    for path in faces:
        with TTFont(path, lazy=True) as font:
            maps.append(frozenset(font.getBestCmap()))
    return frozenset.intersection(*maps)


def unprintable_characters(value: str, *, multiline: bool = False) -> list[str]:
    """The distinct characters of ``value`` the bundled fonts cannot print, in order.

    Checked on the NFC form (a letter typed as base + combining accent prints as the
    precomposed letter). Tabs and line breaks are allowed where ``multiline``."""
    printable = printable_code_points()
    found: list[str] = []
    for char in unicodedata.normalize("NFC", value):
        if multiline and char in _LINE_BREAKS_OK:
            continue
        if ord(char) not in printable and char not in found:
            found.append(char)
    return found


def _describe(char: str) -> Message:
    code = f"U+{ord(char):04X}"
    if unicodedata.category(char)[0] in "CZ" and char != " ":  # invisible: the code alone
        return msg("le caractère invisible {code}", code=code)
    return msg("« {char} » ({code})", char=char, code=code)


def unprintable_character_problem(value: str, *, multiline: bool = False) -> str | None:
    """A French field error naming the characters that would print as empty boxes, or None."""
    found = unprintable_characters(value, multiline=multiline)
    if not found:
        return None
    listed = tuple(_describe(c) for c in found[:MAX_LISTED])
    if len(found) == 1:
        return msg(
            "Ce caractère ne peut pas être imprimé dans les documents (les polices du PDF ne "
            "le contiennent pas) : {listed}. Retirez-le ou remplacez-le.",
            listed=listed,
        )
    count = len(found) - MAX_LISTED
    more = (
        msg(" et {count} autres", count=count)
        if is_plural(count)
        else msg(" et {count} autre", count=count)
    )
    return msg(
        "Ces caractères ne peuvent pas être imprimés dans les documents (les polices du PDF "
        "ne les contiennent pas) : {listed}{more}. Retirez-les ou remplacez-les.",
        listed=listed,
        more=more if len(found) > MAX_LISTED else "",
    )


# A capacity printed after a signer's name (« Présidente », « Directrice commerciale »): the
# client's signer's, a vendor user's. Optional, on one line, bounded.
MAX_CAPACITY = 120


def capacity_problem(value: str) -> str | None:
    """What is wrong with a capacity, or None: optional, but printed on the contract next to
    the name, so bounded and made only of characters the PDF fonts have."""
    title = value.strip()
    if not title:
        return None
    if len(title) > MAX_CAPACITY:
        return msg("{limit} caractères au maximum.", limit=MAX_CAPACITY)
    return text_problem(title) or unprintable_character_problem(title)
