"""CGV as they arrive — Markdown, plain text or a Word file — turned into the Markdown a
version stores, with its articles as headings.

Legal receives CGV as a plain-text export or a ``.docx`` far more often than as Markdown;
published as they were, a plain text became one wall of merged lines with no headings, and
the article-by-article comparison then matched nothing. Here each source is cut into blocks
(headings, paragraphs, list items), one classifier decides what a line is, and the Markdown
is written with every character of the text escaped, so that a ``*`` or a ``<`` in the CGV
stays what it was. Pure functions: the form and the preview call them, nothing is stored.

Articles are recognised in their usual French spellings: "Article 3", "ARTICLE 3.",
"Article 17 : Réversibilité", and numbered headings ("3. Prix", "3 - Prix") when the text has
no "Article" lines, in order (1, 2, 3…, so that a numbered paragraph is not taken for one).
Sub-numbered titles ("7.1. Le prix") become sub-headings inside their article; dashes,
bullets and numbered or lettered paragraphs stay list items.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from io import BytesIO
from typing import Literal
from zipfile import BadZipFile

from app.terms.rules import PREAMBLE, split_articles


class SourceFormat(StrEnum):
    MARKDOWN = "markdown"
    TEXT = "text"
    DOCX = "docx"


class UnreadableSource(ValueError):
    """The file is not what its format says (a damaged or renamed .docx)."""


# title: the document's (#); heading: an article, an annex or a section of the same rank
# (##); subheading: inside an article (###)
BlockKind = Literal["title", "heading", "subheading", "paragraph", "bullet", "numbered"]


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    text: str
    marker: str = ""  # a numbered item's own number ("3"), kept as written


ARTICLE = re.compile(
    r"^(?:article|art\.)\s+(?P<n>\d{1,3}(?:\.\d{1,2})*)\b\s*(?:[.:)\-–—]\s*)*(?P<title>.*)$",
    re.IGNORECASE,
)
ANNEX = re.compile(r"^annexe\s+(?P<n>[IVXLC]+|\d{1,2})\b\s*(?:[.:)\-–—]\s*)*(?P<title>.*)$", re.I)
NUMBERED_HEADING = re.compile(r"^(?P<n>\d{1,2})\s*(?:[.)]|\s[-–—])\s*(?P<title>\S.*)$")
SUB_NUMBERED = re.compile(r"^(?P<n>\d{1,2}(?:\.\d{1,2})+)\.?\s+(?P<title>\S.*)$")
BULLET = re.compile(r"^[-–—•*·▪●◦]\s+(?P<text>\S.*)$")
NUMBERED_ITEM = re.compile(r"^(?P<n>\d{1,2})[.)]\s+(?P<text>\S.*)$")
LETTERED_ITEM = re.compile(r"^(?P<marker>\(?(?:[a-z]|[ivx]{1,4})\))\s+(?P<text>\S.*)$")
SEPARATOR = re.compile(r"^[\s*•·.]{3,}$")
UNDERLINE = re.compile(r"^[\-_=~]{3,}$")  # under a heading, in a text that mimics Markdown
_SENTENCE_END = (".", "!", "?", ":", ";", "»")
_MAX_TITLE = 120


def _title_like(text: str) -> bool:
    """Short and not a sentence: a heading's text ("Prix", "DURÉE ET RÉSILIATION")."""
    text = text.strip()
    return 0 < len(text) <= _MAX_TITLE and not text.endswith((".", ";", ",", ":"))


def _capitals(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 3 and all(c.isupper() for c in letters)


@dataclass
class _Classifier:
    """Decides what one line (or one Word paragraph) is; remembers the last article number
    so that numbered headings are taken in order only."""

    explicit_articles: bool  # the text has "Article N" lines: only those are articles
    last_number: int = 0

    def __call__(self, line: str) -> Block:
        if m := ARTICLE.match(line):
            return Block("heading", line)
        if m := ANNEX.match(line):
            return Block("heading", line)
        if m := SUB_NUMBERED.match(line):
            if _title_like(m["title"]):
                return Block("subheading", line)
            return Block("paragraph", line)
        if (m := NUMBERED_HEADING.match(line)) and _title_like(m["title"]):
            number = int(m["n"])
            if not self.explicit_articles and number == self.last_number + 1:
                self.last_number = number
                return Block("heading", line)
            if self.explicit_articles and _capitals(m["title"]):
                return Block("subheading", line)
        if m := BULLET.match(line):
            return Block("bullet", m["text"])
        if m := NUMBERED_ITEM.match(line):
            return Block("numbered", m["text"], m["n"])
        if m := LETTERED_ITEM.match(line):
            return Block("bullet", f"{m['marker']} {m['text']}")
        if _capitals(line) and _title_like(line) and len(line) <= 80:
            return Block("heading", line)  # "PRÉAMBULE", "PLAN D'ASSURANCE SÉCURITÉ"
        return Block("paragraph", line)


def _clean(line: str) -> str:
    return " ".join(line.replace("\u00a0", " ").split())


def _has_explicit_articles(lines: Iterable[str]) -> bool:
    return any(ARTICLE.match(line) for line in lines)


def text_blocks(text: str) -> list[Block]:
    """A plain text's blocks. The lines of one paragraph are merged: every line up to the
    next blank line when the text separates its paragraphs by blank lines (a hard-wrapped
    export), otherwise a line ending a sentence closes its paragraph (one paragraph per line,
    as Word writes a .txt)."""
    raw = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = [_clean(line) for line in raw]
    filled = [line for line in lines if line]
    # blank lines between paragraphs (not the trailing ones): at least one per four lines
    inner = "\n".join(lines).strip("\n").split("\n")
    blank_separated = bool(filled) and (len(inner) - len(filled)) * 4 >= len(filled)
    classify = _Classifier(_has_explicit_articles(filled))
    blocks: list[Block] = []
    open_block = False  # the last block may take the next line
    first = True
    for i, line in enumerate(lines):
        if not line or UNDERLINE.match(line):
            open_block = False
            continue
        block = classify(line)
        if SEPARATOR.match(line):
            block = Block("paragraph", line)  # "* * *": the author's, kept as written
        if block.kind in ("heading", "subheading") and not _stands_alone(
            block,
            blocks,
            open_block,
            next_blank=i + 1 >= len(lines) or not lines[i + 1],
            blank_separated=blank_separated,
        ):
            block = Block("paragraph", line)  # a wrapped line that happens to look like one
        if first and block.kind in ("paragraph", "subheading") and _title_like(line):
            blocks.append(Block("title", line))  # the document's own title, first line
            first = False
            continue
        first = False
        joins = (
            open_block
            and block.kind == "paragraph"
            and blocks
            and blocks[-1].kind in ("paragraph", "bullet", "numbered")
            and (blank_separated or not blocks[-1].text.endswith(_SENTENCE_END))
        )
        if joins:
            last = blocks[-1]
            blocks[-1] = Block(last.kind, f"{last.text} {line}", last.marker)
        else:
            blocks.append(block)
        open_block = block.kind in ("paragraph", "bullet", "numbered") and not SEPARATOR.match(line)
    return blocks


def _stands_alone(
    block: Block, blocks: list[Block], open_block: bool, *, next_blank: bool, blank_separated: bool
) -> bool:
    """A heading starts after a finished paragraph; in a hard-wrapped text, one that is not an
    "Article N" line is also followed by a blank line. Otherwise it is the wrapped middle of
    a sentence ("…définies à l'\nArticle 7.2 des Conditions", "4.1. Avant toute…")."""
    after_paragraph = not open_block or not blocks or blocks[-1].text.endswith(_SENTENCE_END)
    if not after_paragraph:
        return False
    explicit = bool(ARTICLE.match(block.text) or ANNEX.match(block.text))
    return explicit or next_blank or not blank_separated


_WORD_HEADING = re.compile(r"^(?:heading|titre)\s*(?P<level>\d)$", re.IGNORECASE)


def docx_blocks(data: bytes) -> list[Block]:
    """A Word file's blocks: one per paragraph (Word keeps them apart, nothing to merge).
    Heading styles are headings whatever their text; list styles and automatic numbering
    are list items; other paragraphs go through the same classifier as a plain text, since
    many CGV set "ARTICLE 3. PRIX" in bold rather than as a heading. Tables are read row by
    row, their cells joined by a dash."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(BytesIO(data))
    except (PackageNotFoundError, BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnreadableSource("Ce fichier n'est pas un document Word (.docx) lisible.") from exc
    paragraphs = list(_docx_paragraphs(document))
    classify = _Classifier(_has_explicit_articles(text for _style, _numbered, text in paragraphs))
    blocks: list[Block] = []
    for style, numbered, text in paragraphs:
        if not text or UNDERLINE.match(text):
            continue
        if SEPARATOR.match(text):
            blocks.append(Block("paragraph", text))  # "* * *": the author's, kept as written
            continue
        heading = _WORD_HEADING.match(style)
        if style.casefold() in ("title", "titre") and not blocks:
            blocks.append(Block("title", text))
        elif heading:
            block = classify(text)
            if block.kind != "heading":
                block = Block("heading" if int(heading["level"]) <= 2 else "subheading", text)
            blocks.append(block)
        elif numbered or style.casefold().startswith(("list", "liste")):
            ordered = "number" in style.casefold() or "numéro" in style.casefold()
            blocks.append(Block("numbered" if ordered else "bullet", text, ""))
        else:
            block = classify(text)
            if not blocks and block.kind in ("paragraph", "subheading") and _title_like(text):
                block = Block("title", text)
            blocks.append(block)
    return blocks


def _docx_paragraphs(document: object) -> Iterator[tuple[str, bool, str]]:
    """(style name, automatically numbered, text) of each paragraph, tables' rows included,
    in the body's order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for item in document.iter_inner_content():  # type: ignore[attr-defined]
        if isinstance(item, Paragraph):
            ppr = item._p.pPr
            numbered = ppr is not None and ppr.numPr is not None
            style = item.style.name if item.style is not None else ""
            yield style or "", numbered, _clean(item.text)
        elif isinstance(item, Table):
            for row in item.rows:
                cells = [_clean(cell.text) for cell in row.cells]
                yield "", False, " — ".join(c for c in dict.fromkeys(cells) if c)


# Every ASCII punctuation CommonMark could read as syntax: escaped, the text stays text.
_MARKDOWN_SYNTAX = re.compile(r"([\\`*_\[\]<>#&|~!{}])")
_LIST_START = re.compile(r"^(\d{1,9})([.)])(\s)")
_BLOCK_START = re.compile(r"^([-+=>])")


def escape(text: str, *, paragraph: bool = False) -> str:
    """The text as Markdown that renders it verbatim; a paragraph's start also must not read
    as a list item or a quotation ("2024. Le client…", "- ", "> ")."""
    escaped = _MARKDOWN_SYNTAX.sub(r"\\\1", text)
    if paragraph:
        escaped = _LIST_START.sub(r"\1\\\2\3", escaped)
        escaped = _BLOCK_START.sub(r"\\\1", escaped)
    return escaped


def to_markdown(blocks: Iterable[Block]) -> str:
    out: list[str] = []
    previous: BlockKind | None = None
    for block in blocks:
        text = escape(block.text, paragraph=block.kind == "paragraph")
        if block.kind == "title":
            line = f"# {text}"
        elif block.kind == "heading":
            line = f"## {text}"
        elif block.kind == "subheading":
            line = f"### {text}"
        elif block.kind == "bullet":
            line = f"- {text}"
        elif block.kind == "numbered":
            line = f"{block.marker or '1'}. {text}"
        else:
            line = text
        # items of one list stay together; anything else is its own paragraph
        same_list = block.kind in ("bullet", "numbered") and previous == block.kind
        if out and not same_list:
            out.append("")
        out.append(line)
        previous = block.kind
    return "\n".join(out) + "\n" if out else ""


@dataclass(frozen=True)
class Converted:
    markdown: str
    articles: list[str]  # the titles of the articles found, in order

    @property
    def no_article(self) -> bool:
        return not self.articles


def articles_of(markdown: str) -> list[str]:
    """The titles that read as articles ("Article 3", "ARTICLE 3.", "3. Prix", "Annexe I"),
    in order: the table of articles of the preview, empty when none was found."""
    found = []
    for article in split_articles(markdown):
        title = article.title.replace("\\", "")
        if article.title != PREAMBLE and (
            ARTICLE.match(title) or ANNEX.match(title) or NUMBERED_HEADING.match(title)
        ):
            found.append(title)
    return found


def convert(data: bytes | str, source: SourceFormat) -> Converted:
    """The Markdown of a CGV text in its arriving format, and its articles. Raises
    UnreadableSource for a .docx that is not one, or a text that is not UTF-8."""
    if source is SourceFormat.DOCX:
        if isinstance(data, str):
            raise UnreadableSource("Un document Word se dépose comme fichier.")
        markdown = to_markdown(docx_blocks(data))
    else:
        if isinstance(data, bytes):
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                try:
                    text = data.decode("cp1252")  # Windows "ANSI", the usual Word .txt export
                except UnicodeDecodeError as exc:
                    raise UnreadableSource("Texte illisible : enregistrez-le en UTF-8.") from exc
        else:
            text = data
        if source is SourceFormat.MARKDOWN:
            markdown = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        else:
            markdown = to_markdown(text_blocks(text))
    return Converted(markdown, articles_of(markdown))
