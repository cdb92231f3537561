"""The fixture CGV as a Word file, built at test time with python-docx the way CGV are
usually typed: the title in the Title style, "ARTICLE 3. PRIX" as a bold ordinary paragraph
(not a heading style), sub-articles as Heading 3, dashes as "List Bullet" paragraphs (Word's
automatic bullets: the dash is not in the text), and every paragraph on one line."""

from __future__ import annotations

import io
import re

import docx

from tests.unit.terms.plain_cgv import plain_text_of


def docx_of(markdown: str) -> bytes:
    document = docx.Document()
    paragraphs = [p.replace("\n", " ") for p in re.split(r"\n\s*\n", plain_text_of(markdown))]
    for n, text in enumerate(p for p in paragraphs if p.strip()):
        if n == 0:
            document.add_paragraph(text, style="Title")
        elif text.startswith("– "):
            document.add_paragraph(text[2:], style="List Bullet")
        elif re.match(r"\d+\.\d+\. [A-ZÉ ]+$", text):
            document.add_heading(text, level=3)
        elif text.startswith(("ARTICLE", "ANNEXE")):
            document.add_paragraph().add_run(text).bold = True
        else:
            document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
