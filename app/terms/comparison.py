"""Two CGV versions compared article by article, word by word, in the text a reader sees.

Articles are matched by their number ("Article 7", "ARTICLE 7.", "7. Prix", "Annexe II"),
whatever the spelling of the heading or the Markdown around it, so that a version imported
from plain text lines up with one written in Markdown; an article renumbered (one inserted
before it) is found again by its title. Each pair is compared on its rendered text (the same
inert Markdown renderer as the PDF, tags dropped), not on its source: an escape, a list
marker or an underlined heading is not a change, a word is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from html.parser import HTMLParser
from typing import Literal

from app.rendering.markdown import markdown_to_html
from app.terms.conversion import ANNEX, ARTICLE, NUMBERED_HEADING
from app.terms.rules import Article, split_articles

Status = Literal["same", "changed", "added", "removed"]
BREAK = "\n"  # a paragraph or list item boundary among the words


@dataclass(frozen=True)
class Segment:
    kind: Literal["same", "ins", "del"]
    text: str  # words joined by spaces; BREAK alone for a paragraph boundary


@dataclass(frozen=True)
class ArticleDiff:
    status: Status
    left: Article | None
    right: Article | None
    segments: tuple[Segment, ...]  # the article's words, deleted and inserted ones marked

    @property
    def title(self) -> str:
        article = self.right or self.left
        assert article is not None  # one side at least
        return article.title.replace("\\", "")


class _Words(HTMLParser):
    """The words of rendered HTML, with a BREAK after each block; an ordered list's numbers
    are words too ("2."), as the reader sees them."""

    BLOCKS = frozenset({"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote"})

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self._text = ""  # the current block's text: inline tags (<em>) do not split words
        self._numbers: list[int | None] = []  # per open list: the next item's number

    def _flush(self) -> None:
        self.words += self._text.split()
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS or tag in ("ol", "ul"):
            self._flush()
        if tag == "ol":
            start = dict(attrs).get("start") or "1"
            self._numbers.append(int(start) if start.isdigit() else 1)
        elif tag == "ul":
            self._numbers.append(None)
        elif tag == "li" and self._numbers and (number := self._numbers[-1]) is not None:
            self.words.append(f"{number}.")
            self._numbers[-1] = number + 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS or tag in ("ol", "ul"):
            self._flush()
        if tag in ("ol", "ul") and self._numbers:
            self._numbers.pop()
        if tag in self.BLOCKS and self.words and self.words[-1] != BREAK:
            self.words.append(BREAK)

    def handle_data(self, data: str) -> None:
        self._text += data


def rendered_words(markdown: str) -> list[str]:
    parser = _Words()
    parser.feed(str(markdown_to_html(markdown)))
    parser.close()
    parser._flush()
    return parser.words[:-1] if parser.words[-1:] == [BREAK] else parser.words


def _key(article: Article) -> str:
    """The article's number when its heading has one, else its title."""
    title = article.title.replace("\\", "").strip()
    if m := ARTICLE.match(title):
        return f"article {m['n']}"
    if m := ANNEX.match(title):
        return f"annexe {m['n'].upper()}"
    if m := NUMBERED_HEADING.match(title):
        return f"article {m['n']}"
    return _bare(title)


_NUMBERING = re.compile(
    r"^(?:(?:article|art\.|annexe)\s+)?[\dIVXLC.]+\b\s*(?:[.:)\-–—]\s*)*", re.IGNORECASE
)


def _bare(title: str) -> str:
    """The title without its number, for finding a renumbered article."""
    return " ".join(_NUMBERING.sub("", title.replace("\\", "")).casefold().split())


def _segments(old: list[str], new: list[str]) -> tuple[Segment, ...]:
    out: list[Segment] = []

    def add(kind: Literal["same", "ins", "del"], words: list[str]) -> None:
        # a BREAK is its own segment, so that the page starts a new line there
        run: list[str] = []
        for word in [*words, None]:
            if word is None or word == BREAK:
                if run:
                    out.append(Segment(kind, " ".join(run)))
                    run = []
                if word == BREAK:
                    out.append(Segment("same", BREAK))
            else:
                run.append(word)

    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            add("same", old[i1:i2])
        else:
            add("del", old[i1:i2])
            add("ins", new[j1:j2])
    return tuple(out)


def _pair(a: Article, b: Article) -> ArticleDiff:
    old, new = rendered_words(a.text), rendered_words(b.text)
    if old == new:
        return ArticleDiff("same", a, b, ())
    return ArticleDiff("changed", a, b, _segments(old, new))


def _bare_title(article: Article) -> str:
    return _bare(article.title)


def _pair_leftovers(
    left: list[Article], right: list[Article], pairs: dict[int, int], key: Callable[[Article], str]
) -> None:
    taken = set(pairs.values())
    free: dict[str, int] = {}
    for i, a in enumerate(left):
        if i not in taken:
            free.setdefault(key(a), i)
    for j, b in enumerate(right):
        if j not in pairs and (i := free.pop(key(b), -1)) >= 0:
            pairs[j] = i


def _pairs(left: list[Article], right: list[Article]) -> dict[int, int]:
    """right index → left index: same number and title first (in order), then the same
    title under another number (renumbered), then the same number under another title
    (renamed)."""
    matcher = SequenceMatcher(
        None,
        [(_key(a), _bare_title(a)) for a in left],
        [(_key(b), _bare_title(b)) for b in right],
        autojunk=False,
    )
    pairs = {
        block.b + k: block.a + k
        for block in matcher.get_matching_blocks()
        for k in range(block.size)
    }
    _pair_leftovers(left, right, pairs, _bare_title)
    _pair_leftovers(left, right, pairs, _key)
    return pairs


def compare_articles(old: str, new: str) -> list[ArticleDiff]:
    """The articles of two versions paired (``_pairs``), in the new version's order, each
    removed one shown where it stood."""
    left, right = split_articles(old), split_articles(new)
    pairs = _pairs(left, right)
    paired = set(pairs.values())
    result: list[ArticleDiff] = []
    shown = 0  # left articles up to here are placed

    def removed_up_to(end: int) -> None:
        nonlocal shown
        for i in range(shown, end):
            if i not in paired:
                words = rendered_words(left[i].text)
                result.append(ArticleDiff("removed", left[i], None, _segments(words, [])))
        shown = max(shown, end)

    for j, b in enumerate(right):
        if j in pairs:
            removed_up_to(pairs[j])
            result.append(_pair(left[pairs[j]], b))
        else:
            result.append(ArticleDiff("added", None, b, _segments([], rendered_words(b.text))))
    removed_up_to(len(left))
    return result
