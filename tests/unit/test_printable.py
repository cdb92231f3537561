"""Text the documents' fonts cannot print is refused at input, naming the character (issue 12:
an emoji in a client name printed as an empty box). The rule is read from the bundled fonts;
these tests check it against what the PDF renderer actually draws."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app.printable import (
    printable_code_points,
    typed_text,
    unprintable_character_problem,
    unprintable_characters,
)
from app.rendering.contract import CONTRACT_ASSETS_DIR
from app.rendering.pdf import ASSETS_BASE_URL, render_pdf

NO_GLYPH = "\ue000"  # a private-use character: no font has it, it prints as the empty box
PRINTABLE = "Zoë Łukasz Ødegård Œuvre — « l’été » 1 000 € Ελλάδα Москва"


def raster(text: str, tmp_path: Path) -> bytes:
    """``text`` in the documents' font, as a grey-scale bitmap (what a reader sees)."""
    html = (
        "<style>@font-face { font-family: 'Paraphe Sans'; "
        "src: url('fonts/LiberationSans-Regular.ttf'); } "
        "@page { size: 120pt 40pt; margin: 5pt; } "
        "body { font-family: 'Paraphe Sans'; font-size: 20pt; }</style>"
        f"<p>x{text}x</p>"
    )
    pdf = render_pdf(html, base_url=ASSETS_BASE_URL, assets_dir=CONTRACT_ASSETS_DIR)
    out = subprocess.run(
        ["pdftoppm", "-gray", "-r", "72", "-singlefile", "-", str(tmp_path / "page")],
        input=pdf,
        capture_output=True,
        check=True,
    )
    assert out.returncode == 0
    return (tmp_path / "page.pgm").read_bytes()


def test_an_emoji_in_a_name_is_refused_naming_it() -> None:
    problem = unprintable_character_problem("Boulangerie 🥐 Lefèvre")
    assert problem is not None
    assert "« 🥐 » (U+1F950)" in problem and "ne peut pas être imprimé" in problem
    several = unprintable_character_problem("🥐 et 😀 et 🥐 et 漢")
    assert several is not None
    assert "« 🥐 » (U+1F950), « 😀 » (U+1F600), « 漢 » (U+6F22)" in several
    assert "Ces caractères" in several
    invisible = unprintable_character_problem("a\u2060b")  # WORD JOINER: named by its code
    assert invisible is not None and "le caractère invisible U+2060" in invisible


def test_french_and_european_names_are_accepted() -> None:
    assert unprintable_characters(PRINTABLE) == []
    assert unprintable_character_problem("Lefe\u0300vre") is None  # accent typed as combining
    assert unprintable_character_problem("ligne 1\nligne\t2", multiline=True) is None
    assert unprintable_character_problem("ligne 1\nligne 2") is not None  # single-line field


def test_the_rule_is_what_the_pdf_prints(tmp_path: Path) -> None:
    box = raster(NO_GLYPH, tmp_path)
    assert ord(NO_GLYPH) not in printable_code_points()
    # every accepted character is drawn (its bitmap is not the empty box) …
    for char in sorted(set(PRINTABLE) - {" "}):
        assert ord(char) in printable_code_points()
        assert raster(char, tmp_path) != box, char
    # … and the emoji of the report is not in the fonts the PDF embeds: refused
    assert unprintable_characters("🥐") == ["🥐"]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ligne 1\r\nligne 2\r\n", "ligne 1\nligne 2"),
        ("\r\n\r\n  indenté\n\n  suite  \n\n", "  indenté\n\n  suite"),
        ("{{ x }}\r**y**", "{{ x }}\n**y**"),
    ],
)
def test_typed_text_keeps_what_was_typed(typed: str, stored: str) -> None:
    assert typed_text(typed) == stored
