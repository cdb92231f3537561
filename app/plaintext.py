"""Refusing characters that have no business in text typed by people.

Control characters (NUL, escape codes …) and lone surrogates break PostgreSQL (NUL), PDF/A
metadata (XML forbids them) and signatures; they are refused at input with a clear message
rather than stored. Line breaks and tabs are allowed where a field is multi-line.
"""

from __future__ import annotations

import unicodedata

_MULTILINE_OK = frozenset("\n\r\t")


def control_character_problem(value: str, *, multiline: bool = False) -> str | None:
    for char in value:
        if multiline and char in _MULTILINE_OK:
            continue
        if unicodedata.category(char) in ("Cc", "Cs"):
            return (
                f"Caractère de contrôle interdit (U+{ord(char):04X}) : "
                "retapez le texte sans le copier-coller depuis un autre logiciel."
            )
    return None
