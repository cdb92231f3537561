"""The contract document: its typed context and its rendering to HTML and PDF.

A contract assembles the cover (parties, references), the commercial proposal (quote table
and totals), the particular terms, the full text of the CGV version in force, the order of
precedence between these documents and a last page for the signatures. Everything shown
comes from a ``ContractDocument``: the template computes nothing but presentation, amounts
arrive already rounded (``app.pricing.totals`` owns the rounding rule).
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2.sandbox import SandboxedEnvironment

from app.rendering.compose import underlay_pages
from app.rendering.contract_document import (
    COMMERCIAL_PROPOSAL,
    GENERAL_TERMS,
    PARTICULAR_TERMS,
    ContractDocument,
    Party,
    contract_context,
    signature_slots,
)
from app.rendering.errors import RenderingError
from app.rendering.geometry import (
    Rect,
)
from app.rendering.jinja import (
    CONTRACT_TEMPLATES_DIR,
    DEFAULT_TEMPLATE_DIRS,
    make_environment,
    render_template,
)
from app.rendering.pdf import (
    ASSETS_BASE_URL,
    FetchAttempt,
    layout_pdf,
    render_pdf,
    write_document,
)

CONTRACT_TEMPLATE = "contract.html"
TEMPLATE_SETTINGS = "contract.json"
"""Settings of a contract template folder: ``{"precedence": [...]}``, the order of precedence
printed as an explicit clause (one vendor ranks particular terms first, another the CGV)."""
CONTRACT_ASSETS_DIR = CONTRACT_TEMPLATES_DIR / "assets"


def template_precedence(templates_dir: Path | None = None) -> tuple[str, ...]:
    """The order of precedence set by the template folder (a vendor's ``contract.json`` wins
    over the bundled one). Each known document once: anything else is a ``RenderingError``."""
    candidates = [] if templates_dir is None else [templates_dir / TEMPLATE_SETTINGS]
    candidates.append(CONTRACT_TEMPLATES_DIR / TEMPLATE_SETTINGS)
    path = next(p for p in candidates if p.is_file() or p == candidates[-1])
    try:
        order = json.loads(path.read_text(encoding="utf-8"))["precedence"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RenderingError(f"{path.name} illisible : {exc}") from exc
    known = {PARTICULAR_TERMS, COMMERCIAL_PROPOSAL, GENERAL_TERMS}
    if not isinstance(order, list) or sorted(order) != sorted(known):
        raise RenderingError(
            f"{path.name} : l'ordre de priorité cite une fois chacun de {sorted(known)}"
        )
    return tuple(order)


@functools.cache
def template_environment(templates_dir: Path | None = None) -> SandboxedEnvironment:
    """One sandboxed environment per template folder (the vendor's first, then the bundled
    ones): it keeps the compiled templates, which Jinja would otherwise compile again for
    every contract (a tenth of a render)."""
    dirs = None if templates_dir is None else (templates_dir, *DEFAULT_TEMPLATE_DIRS)
    return make_environment(dirs)


def render_contract_html(
    doc: ContractDocument,
    env: SandboxedEnvironment,
    *,
    template_name: str = CONTRACT_TEMPLATE,
) -> str:
    """The contract as HTML, from the sandboxed ``env`` (see ``app.rendering.jinja``)."""
    return render_template(env, template_name, contract_context(doc))


def render_contract_pdf(
    doc: ContractDocument,
    *,
    templates_dir: Path | None = None,
    env: SandboxedEnvironment | None = None,
    template_name: str = CONTRACT_TEMPLATE,
    assets_dir: Path | None = None,
    pdf_variant: str | None = "pdf/a-3b",
    fetch_log: list[FetchAttempt] | None = None,
    reuse_cgv_pages: bool = True,
) -> bytes:
    """The contract as a PDF/A-3b, signature page last (see ``app.rendering.geometry``).

    ``reuse_cgv_pages``: the CGV section is laid out once per CGV text and template, kept in
    a per-process cache, and its pages reused under each contract's own header and
    "page X / Y" footer (see ``_layout_reusing_cgv_pages``); the text is the same as a
    single render of the full HTML (``reuse_cgv_pages=False``); see bench/contract_render.py.

    After layout, each signer's frame (``id="signature-N"``, N from 1) is checked to be on the
    last page exactly at ``signature_boxes(len(doc.signers))[N - 1]``: a template breaking the
    geometry raises ``RenderingError`` rather than misplacing a signature field.

    ``templates_dir``: a vendor's own template folder, searched before the bundled ones; its
    ``assets/`` subfolder, when present, replaces the bundled assets. Or pass a ready ``env``.
    """
    if env is not None and templates_dir is not None:
        raise ValueError("templates_dir ou env, pas les deux")
    if env is None:
        env = template_environment(templates_dir)
    if assets_dir is None:
        vendor_assets = templates_dir / "assets" if templates_dir is not None else None
        assets_dir = (
            vendor_assets
            if vendor_assets is not None and vendor_assets.is_dir()
            else CONTRACT_ASSETS_DIR
        )
    boxes = {f"signature-{slot.number}": slot.rect for slot in signature_slots(doc.signers)}
    if reuse_cgv_pages:
        composed = _render_reusing_cgv_pages(
            doc, _Rendering(env, template_name, assets_dir, pdf_variant, fetch_log), boxes
        )
        if composed is not None:
            return composed
    html = render_contract_html(doc, env, template_name=template_name)
    return render_pdf(
        html,
        base_url=ASSETS_BASE_URL,
        assets_dir=assets_dir,
        pdf_variant=pdf_variant,
        fetch_log=fetch_log,
        last_page_boxes=boxes,
    )


CGV_CACHE_SIZE = 8
"""Painted CGV sections kept per process: a few CGV versions are in force at a time; each
entry is the section's PDF (some hundred KB for 20 pages) and its bookmarks and anchors."""

NO_MARGIN_BOXES = (
    "@page { "
    + " ".join(
        f"@{box} {{ content: none !important; }}"
        for box in (
            "top-left-corner",
            "top-left",
            "top-center",
            "top-right",
            "top-right-corner",
            "right-top",
            "right-middle",
            "right-bottom",
            "bottom-right-corner",
            "bottom-right",
            "bottom-center",
            "bottom-left",
            "bottom-left-corner",
            "left-bottom",
            "left-middle",
            "left-top",
        )
    )
    + " }"
)
"""The CGV section is painted without running headers or footers: each contract's frame
supplies its own (contract number, parties, "page X / Y" over the whole document)."""


@dataclass(frozen=True)
class PageMarks:
    """What a painted page carries besides its drawing: bookmarks (the PDF outline), anchors
    (named destinations) and links, as WeasyPrint's ``Page`` holds them."""

    bookmarks: tuple[Any, ...]
    anchors: tuple[tuple[str, Any], ...]
    links: tuple[Any, ...]


@dataclass(frozen=True)
class PaintedCgv:
    """A CGV section laid out and painted once: its PDF pages and their marks."""

    pdf: bytes
    pages: tuple[PageMarks, ...]


_cgv_cache: OrderedDict[str, PaintedCgv] = OrderedDict()
_cgv_cache_lock = threading.Lock()
_NEUTRAL_PARTY = Party(
    legal_name="-", siren="-", vat_number=None, address_lines=(), representative_name="-"
)
_NEUTRAL_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def clear_cgv_page_cache() -> None:
    """Forget the painted CGV sections (tests, memory)."""
    with _cgv_cache_lock:
        _cgv_cache.clear()


@dataclass(frozen=True)
class _Rendering:
    """How one contract is rendered, the same for its CGV section and for its frame: the
    template, the assets it may fetch, the PDF variant, and where fetches are logged."""

    env: SandboxedEnvironment
    template_name: str
    assets_dir: Path
    pdf_variant: str | None
    fetch_log: list[FetchAttempt] | None

    def html(self, context: dict[str, Any]) -> str:
        return render_template(self.env, self.template_name, context)

    def layout(self, html: str, *, extra_css: str | None = None, reuse_style: bool = False) -> Any:
        """``html`` laid out by WeasyPrint (see ``layout_pdf``)."""
        return layout_pdf(
            html,
            base_url=ASSETS_BASE_URL,
            assets_dir=self.assets_dir,
            pdf_variant=self.pdf_variant,
            fetch_log=self.fetch_log,
            extra_css=extra_css,
            reuse_style=reuse_style,
        )


def _cgv_document(doc: ContractDocument, how: _Rendering) -> PaintedCgv | None:
    """The CGV section of ``doc`` laid out and painted alone (``part="cgv"``), from the
    cache when the same section HTML was painted before; ``None`` when the template has no
    such part.

    The section is rendered from a copy of ``doc`` whose contract-specific fields are
    neutral, so its HTML, the cache key, depends only on the CGV text, labels, template and
    assets. Its pages carry no running header or footer (``NO_MARGIN_BOXES``): the
    contract's frame supplies them.
    """
    neutral = replace(
        doc,
        contract_number="-",
        version=1,
        generated_at=_NEUTRAL_TIME,
        vendor=_NEUTRAL_PARTY,
        client=_NEUTRAL_PARTY,
        quote_number="-",
        lines=(),
        particular_terms=(),
        commercial_terms=(),
        signers=doc.signers[:1],
    )
    html = how.html({**contract_context(neutral), "part": "cgv"})
    if 'data-paraphe-part="cgv"' not in html:
        return None
    key = hashlib.sha256(
        "\x00".join((html, str(how.assets_dir.resolve()), str(how.pdf_variant))).encode("utf-8")
    ).hexdigest()
    with _cgv_cache_lock:
        cached = _cgv_cache.get(key)
        if cached is not None:
            _cgv_cache.move_to_end(key)
            return cached
    document = how.layout(html, extra_css=NO_MARGIN_BOXES)
    painted = PaintedCgv(
        pdf=write_document(document, pdf_variant=how.pdf_variant),
        pages=tuple(
            PageMarks(
                bookmarks=tuple(page.bookmarks),
                anchors=tuple(page.anchors.items()),
                links=tuple(page.links),
            )
            for page in document.pages
        ),
    )
    with _cgv_cache_lock:
        _cgv_cache[key] = painted
        while len(_cgv_cache) > CGV_CACHE_SIZE:
            _cgv_cache.popitem(last=False)
    return painted


def _render_reusing_cgv_pages(
    doc: ContractDocument, how: _Rendering, last_page_boxes: dict[str, Rect]
) -> bytes | None:
    """The contract's PDF with the CGV pages painted once and reused: ``None`` when not
    possible (the caller then renders the full HTML).

    The frame (``part="frame"``: cover, quote, particular terms, one empty page per CGV page,
    precedence, signatures) is laid out and painted per contract, so its running header and
    its "page X / Y" count over the whole document. Each empty CGV page of the frame gets
    the bookmarks and anchors of the matching CGV page before painting (the outline is the
    one a full render would have), then, in the PDF, the CGV page's drawing underneath its
    header and footer (``app.rendering.compose``). Only the frame is painted per contract:
    the CGV text, most of the pages, is neither laid out nor painted again.
    """
    cgv = _cgv_document(doc, how)
    if cgv is None:
        return None
    count = len(cgv.pages)
    html = how.html({**contract_context(doc), "part": "frame", "cgv_slots": count})
    frame = how.layout(html, reuse_style=True)
    slot_pages = [
        index
        for index, page in enumerate(frame.pages)
        if any(anchor.startswith("cgv-slot-") for anchor in page.anchors)
    ]
    first = slot_pages[0] if slot_pages else -1
    expected = list(range(first, first + count))
    if slot_pages != expected or any(
        f"cgv-slot-{n + 1}" not in frame.pages[index].anchors for n, index in enumerate(expected)
    ):
        return None  # the template does not give each CGV page its own empty page
    for index, marks in zip(expected, cgv.pages, strict=True):
        page = frame.pages[index]
        page.bookmarks = [*page.bookmarks, *marks.bookmarks]
        page.anchors.update(marks.anchors)
        page.links = [*page.links, *marks.links]
    painted = write_document(frame, pdf_variant=how.pdf_variant, last_page_boxes=last_page_boxes)
    return underlay_pages(painted, cgv.pdf, list(zip(expected, range(count), strict=True)))
