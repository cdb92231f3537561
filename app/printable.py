"""What the user typed is what the contract prints.

- ``typed_text``: the one normalisation applied to free text typed by sales (particular terms,
  free clauses) before it is stored and printed: line endings made ``\\n`` (a browser sends
  ``\\r\\n``) and blank lines around the text dropped. Nothing else changes: no Markdown, no
  typography, spaces and line breaks inside the text kept.
"""

from __future__ import annotations


def typed_text(value: str) -> str:
    """``value`` with ``\\n`` line endings, without blank lines before or trailing spaces after.

    Spaces at the start of the first line are kept (an indented first line is as typed)."""
    text = value.replace("\r\n", "\n").replace("\r", "\n").rstrip()
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)
