"""Refusing characters that have no business in text typed by people.

Control characters (NUL, escape codes …) and lone surrogates break PostgreSQL (NUL), PDF/A
metadata (XML forbids them) and signatures; they are refused at input with a clear message
rather than stored. Line breaks and tabs are allowed where a field is multi-line.

Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) make a printed line read
differently from the characters it holds (a name typed « ACME » can print as « EMCA »): they
are refused in single-line fields (names, references, labels).
"""

from __future__ import annotations

import unicodedata

from app.messages import msg

_MULTILINE_OK = frozenset("\n\r\t")
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def control_character_problem(value: str, *, multiline: bool = False) -> str | None:
    """C0 (but TAB, LF, CR in multi-line text), DEL, C1 and lone surrogates are refused."""
    for char in value:
        if multiline and char in _MULTILINE_OK:
            continue
        if unicodedata.category(char) in ("Cc", "Cs"):
            return msg(
                "Caractère de contrôle interdit (U+{code:04X}) : "
                "retapez le texte sans le copier-coller depuis un autre logiciel.",
                code=ord(char),
            )
    return None


def bidi_control_problem(value: str) -> str | None:
    for char in value:
        if char in BIDI_CONTROLS:
            return msg(
                "Caractère de contrôle du sens d'écriture interdit (U+{code:04X}) : "
                "il ferait lire le texte imprimé autrement que saisi.",
                code=ord(char),
            )
    return None


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why typed text cannot be stored, or None: the one rule for every free-text input."""
    problem = control_character_problem(value, multiline=multiline)
    if problem is None and not multiline:
        problem = bidi_control_problem(value)
    return problem
