"""The fixture CGV as legal receives them in plain text: no Markdown (no `#`, no underlined
headings, no `**`, no escapes), dashes for list items, and every paragraph hard-wrapped at
72 columns as a mail client or a text export writes it. Built from the shared fixture at
test time, never stored."""

from __future__ import annotations

import re
import textwrap


def plain_text_of(markdown: str) -> str:
    out: list[str] = []
    for line in markdown.split("\n"):
        if re.fullmatch(r"[=-]{3,}", line):
            continue  # the underline of a heading
        line = re.sub(r"^#+\s*", "", line).replace("**", "").replace("\\", "")
        line = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", line)  # [text](address): the text
        line = re.sub(r"\b_([^_]+)_\b", r"\1", line)  # _emphasis_
        line = re.sub(r"^- ", "– ", line)
        out.extend(textwrap.wrap(line, 72, break_on_hyphens=False, break_long_words=False) or [""])
    return "\n".join(out)
