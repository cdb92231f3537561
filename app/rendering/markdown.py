"""Markdown (CGV, particular terms) to inert HTML for the PDF.

CommonMark with raw HTML disabled: ``<script>`` or ``<img src=...>`` in a CGV comes out as
escaped text. Links and images never become HTML elements: a link shows its text followed by
its address, an image shows its alternative text and its address. The PDF therefore has no
clickable or fetchable external reference coming from editable text, and the printed
contract still shows every address the text mentions. French typography is applied to text.
"""

from __future__ import annotations

from functools import cache, lru_cache

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup

from app.rendering.french import typographie_segments


def markdown_to_html(md: str, *, heading_offset: int = 0) -> Markup:
    """Render Markdown to safe HTML. ``heading_offset=1`` turns ``#`` into ``<h2>`` etc.

    Headings never go deeper than ``<h6>``; the offset lets a CGV's own title sit under the
    contract's section heading.
    """
    if heading_offset < 0:
        raise ValueError("heading_offset doit être positif ou nul")
    return _render(md, heading_offset)


def clear_markdown_cache() -> None:
    """Forget the rendered texts (tests, benchmarks)."""
    _render.cache_clear()


@lru_cache(maxsize=64)
def _render(md: str, heading_offset: int) -> Markup:
    # Pure function of its arguments, and every contract renders the 20-page CGV text of its
    # version: a few versions in force make the cache hit almost always.
    parser = _parser()
    tokens = parser.parse(md)
    if heading_offset:
        for token in tokens:
            if token.type in ("heading_open", "heading_close"):
                level = min(6, int(token.tag[1:]) + heading_offset)
                token.tag = f"h{level}"
    # Raw HTML is disabled and every text token is escaped by the renderer.
    return Markup(parser.renderer.render(tokens, parser.options, {}))  # noqa: S704


@cache
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.enable(["table", "strikethrough"])
    parser.core.ruler.push("paraphe_inert_references", _inert_references)
    parser.core.ruler.push("paraphe_typographie", _typographie)
    return parser


def _text_token(content: str) -> Token:
    return Token("text", "", 0, content=content)


def _visible_text(tokens: list[Token]) -> str:
    return "".join(t.content for t in tokens if t.type in ("text", "code_inline"))


def _inert_references(state: StateCore) -> None:
    """Replace link and image tokens by plain text tokens (see the module docstring)."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        link_href: str | None = None
        link_start = 0
        for token in block.children:
            if token.type == "link_open":
                link_href = str(token.attrGet("href") or "")
                link_start = len(children)
            elif token.type == "link_close":
                text = _visible_text(children[link_start:])
                href = link_href or ""
                if href and href not in (text, f"mailto:{text}"):
                    children.append(_text_token(f" ({href})"))
                link_href = None
            elif token.type == "image":
                alt = token.content.strip()
                src = str(token.attrGet("src") or "")
                children.append(_text_token(f"{alt} ({src})" if alt else src))
            else:
                children.append(token)
        block.children = children


def _typographie(state: StateCore) -> None:
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        pieces: list[tuple[str, bool]] = []
        texts: list[Token] = []
        for token in block.children:
            if token.type == "text":
                pieces.append((token.content, True))
                texts.append(token)
            elif token.type == "code_inline":
                pieces.append((token.content, False))
            elif token.type in ("softbreak", "hardbreak"):
                pieces.append(("\n", False))
        if not texts:
            continue
        result = typographie_segments(pieces)
        editable = iter(
            text for text, (_, is_editable) in zip(result, pieces, strict=True) if is_editable
        )
        for token, text in zip(texts, editable, strict=True):
            token.content = text
