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
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from jinja2.sandbox import SandboxedEnvironment

from app.rendering.compose import underlay_pages
from app.rendering.errors import RenderingError
from app.rendering.french import format_date
from app.rendering.geometry import (
    MAX_SIGNERS,
    PAGE_HEIGHT,
    PAGE_MARGINS,
    PAGE_WIDTH,
    SIGNATURE_AREA_TOP,
    SIGNATURE_LABEL_HEIGHT,
    Rect,
    css_box,
    signature_boxes,
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

PARTICULAR_TERMS = "Conditions particulières"
COMMERCIAL_PROPOSAL = "Proposition commerciale"
GENERAL_TERMS = "Conditions générales de vente"
DEFAULT_PRECEDENCE: tuple[str, ...] = (PARTICULAR_TERMS, COMMERCIAL_PROPOSAL, GENERAL_TERMS)
"""Particular terms first, as Code civil art. 1119 al. 3 presumes; a template setting."""

CONTRACT_TEMPLATE = "contract.html"
TEMPLATE_SETTINGS = "contract.json"
"""Settings of a contract template folder: ``{"precedence": [...]}``, the order of precedence
printed as an explicit clause (one vendor ranks particular terms first, another the CGV)."""
CONTRACT_ASSETS_DIR = CONTRACT_TEMPLATES_DIR / "assets"

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


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


def _check_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} doit porter un fuseau horaire (UTC en base)")


@dataclass(frozen=True)
class Party:
    """A contracting company and the person who represents it."""

    legal_name: str
    siren: str
    vat_number: str | None
    address_lines: tuple[str, ...]
    representative_name: str
    representative_email: str | None = None
    representative_title: str | None = None  # "Président", "Directrice générale" ...

    def __post_init__(self) -> None:
        object.__setattr__(self, "address_lines", tuple(self.address_lines))


@dataclass(frozen=True)
class QuoteLineView:
    """One line of the commercial proposal, amounts excl. VAT, already rounded."""

    position: int
    designation: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal
    total_excl_vat: Decimal
    unit: str = ""
    discount: str = ""  # "10 %" or "150,00 €", already formatted; empty when none


@dataclass(frozen=True)
class VatBreakdown:
    """VAT for one rate: the base (sum of line totals at that rate) and the VAT amount."""

    rate: Decimal
    base: Decimal
    vat: Decimal


class ParticularTerm(NamedTuple):
    """One negotiated clause: a title and its body. A plain ``(title, body)`` works too.

    ``markdown`` is True only for a clause of the legal library (Markdown written by legal,
    placeholders already filled): any other text (typed by sales on the quote or as free
    text) is printed exactly as typed, line breaks kept, nothing interpreted."""

    title: str
    body: str
    markdown: bool = False


class Signer(NamedTuple):
    """A person who signs, in signing order; ``role`` says for whom ("Client", "Pour X" ...).

    A plain ``(name, email, role)`` tuple works too.
    """

    name: str
    email: str
    role: str


@dataclass(frozen=True)
class SignatureSlot:
    """A signer, its frame in PDF points (bottom-left origin) and the CSS that draws it."""

    number: int
    signer: Signer
    rect: Rect
    frame_style: str
    label_style: str


@dataclass(frozen=True)
class ContractDocument:
    """Everything a contract shows. Sequences are stored as tuples (the value is immutable).

    ``particular_terms`` and ``signers`` accept plain tuples, ``(title, body[, markdown])`` and
    ``(name, email, role)``, stored as ``ParticularTerm`` and ``Signer``. Signer ``i``
    signs in frame ``geometry.signature_boxes(len(signers))[i]`` on the last page.

    ``cgv_sha256`` is the SHA-256 of ``cgv_markdown`` encoded as UTF-8 (as
    ``app.terms.versions.text_sha256`` computes it), checked here: the contract states the
    fingerprint of exactly the text it prints.
    """

    contract_number: str
    version: int
    generated_at: datetime
    vendor: Party
    client: Party
    quote_number: str
    quote_date: date
    quote_valid_until: date
    lines: tuple[QuoteLineView, ...]
    total_excl_vat: Decimal
    vat_breakdown: tuple[VatBreakdown, ...]
    total_vat: Decimal
    total_incl_vat: Decimal
    particular_terms: tuple[tuple[str, str] | tuple[str, str, bool], ...]
    cgv_label: str
    cgv_effective_date: date
    cgv_markdown: str
    cgv_sha256: str
    signers: tuple[tuple[str, str, str], ...]
    precedence: tuple[str, ...] = DEFAULT_PRECEDENCE
    global_discount: Decimal = Decimal("0.00")  # taken off subtotal_excl_vat, already rounded
    subtotal_excl_vat: Decimal = Decimal("0.00")
    # sentences from app.quotes.commercial_terms.describe_terms
    commercial_terms: tuple[str, ...] = ()
    cgv_title: str = GENERAL_TERMS
    title: str = "Contrat d’abonnement et de services"

    def __post_init__(self) -> None:
        for name in ("lines", "vat_breakdown", "precedence", "commercial_terms"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        terms = tuple(ParticularTerm(*term) for term in self.particular_terms)
        object.__setattr__(self, "particular_terms", terms)
        object.__setattr__(self, "signers", tuple(Signer(*s) for s in self.signers))
        _check_aware("generated_at", self.generated_at)
        if self.version < 1:
            raise ValueError("la version d'un contrat commence à 1")
        if not 1 <= len(self.signers) <= MAX_SIGNERS:
            raise ValueError(f"de 1 à {MAX_SIGNERS} signataires")
        if not self.precedence or len(set(self.precedence)) != len(self.precedence):
            raise ValueError("l'ordre de priorité liste chaque document une fois")
        if not _SHA256_HEX.fullmatch(self.cgv_sha256):
            raise ValueError("cgv_sha256 : 64 caractères hexadécimaux minuscules")
        actual = hashlib.sha256(self.cgv_markdown.encode("utf-8")).hexdigest()
        if actual != self.cgv_sha256:
            raise ValueError("cgv_sha256 ne correspond pas au texte des CGV fourni")

    @property
    def reference(self) -> str:
        """``"Contrat CTR-2026-0001 — version 1"``: the running header of every page."""
        return f"Contrat {self.contract_number} — version {self.version}"

    @property
    def particular_terms_prevail(self) -> bool:
        """True when the particular terms rank above the CGV (Code civil art. 1119 al. 3)."""
        order = self.precedence
        return (
            PARTICULAR_TERMS in order
            and GENERAL_TERMS in order
            and order.index(PARTICULAR_TERMS) < order.index(GENERAL_TERMS)
        )


@dataclass(frozen=True)
class PrecedenceItem:
    """One contractual document in the order of precedence, with what identifies it."""

    rank: int
    name: str
    detail: str


def precedence_items(doc: ContractDocument) -> list[PrecedenceItem]:
    """The documents in ``doc.precedence`` order, the known ones with their references."""
    details = {
        PARTICULAR_TERMS: "" if doc.particular_terms else "(aucune)",
        COMMERCIAL_PROPOSAL: f"n° {doc.quote_number} du {format_date(doc.quote_date)}",
        GENERAL_TERMS: f"version {doc.cgv_label} du {format_date(doc.cgv_effective_date)}",
    }
    return [
        PrecedenceItem(rank=rank, name=name, detail=details.get(name, ""))
        for rank, name in enumerate(doc.precedence, start=1)
    ]


def signature_slots(signers: Sequence[tuple[str, str, str]]) -> list[SignatureSlot]:
    """Each signer with its frame from ``geometry.signature_boxes`` and the matching CSS."""
    slots = []
    for index, (signer, rect) in enumerate(
        zip(map(Signer._make, signers), signature_boxes(len(signers)), strict=True)
    ):
        x1, _, x2, y2 = rect
        label = css_box((x1, y2, x2, y2 + SIGNATURE_LABEL_HEIGHT))
        slots.append(
            SignatureSlot(
                number=index + 1,
                signer=signer,
                rect=rect,
                frame_style=css_box(rect).style(),
                label_style=label.style(),
            )
        )
    return slots


def _w3c_utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def contract_context(doc: ContractDocument) -> dict[str, Any]:
    """The template context: the document plus the page geometry, as CSS strings."""
    margins = PAGE_MARGINS
    content_height = PAGE_HEIGHT - margins.top - margins.bottom
    return {
        "doc": doc,
        "created_w3c": _w3c_utc(doc.generated_at),
        "page_css": (
            f"size: {PAGE_WIDTH}pt {PAGE_HEIGHT}pt; margin: {margins.top}pt "
            f"{margins.right}pt {margins.bottom}pt {margins.left}pt;"
        ),
        # One hair under the content height, so the page never spills onto a new one.
        "signature_page_style": f"height: {content_height - 1:.3f}pt;",
        "signature_intro_style": (
            f"max-height: {PAGE_HEIGHT - margins.top - SIGNATURE_AREA_TOP - 6:.3f}pt;"
        ),
        "precedence_items": precedence_items(doc),
        "signature_slots": signature_slots(doc.signers),
        "part": "full",  # or "cgv" / "frame": see render_contract_pdf
        "cgv_slots": 0,
    }


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
            doc, env, template_name, assets_dir, pdf_variant, fetch_log, boxes
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


def _cgv_document(
    doc: ContractDocument,
    env: SandboxedEnvironment,
    template_name: str,
    assets_dir: Path,
    pdf_variant: str | None,
    fetch_log: list[FetchAttempt] | None,
) -> PaintedCgv | None:
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
    context = {**contract_context(neutral), "part": "cgv"}
    html = render_template(env, template_name, context)
    if 'data-paraphe-part="cgv"' not in html:
        return None
    key = hashlib.sha256(
        "\x00".join((html, str(assets_dir.resolve()), str(pdf_variant))).encode("utf-8")
    ).hexdigest()
    with _cgv_cache_lock:
        cached = _cgv_cache.get(key)
        if cached is not None:
            _cgv_cache.move_to_end(key)
            return cached
    document = layout_pdf(
        html,
        base_url=ASSETS_BASE_URL,
        assets_dir=assets_dir,
        pdf_variant=pdf_variant,
        fetch_log=fetch_log,
        extra_css=NO_MARGIN_BOXES,
    )
    painted = PaintedCgv(
        pdf=write_document(document, pdf_variant=pdf_variant),
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
    doc: ContractDocument,
    env: SandboxedEnvironment,
    template_name: str,
    assets_dir: Path,
    pdf_variant: str | None,
    fetch_log: list[FetchAttempt] | None,
    last_page_boxes: dict[str, Rect],
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
    cgv = _cgv_document(doc, env, template_name, assets_dir, pdf_variant, fetch_log)
    if cgv is None:
        return None
    count = len(cgv.pages)
    context = {**contract_context(doc), "part": "frame", "cgv_slots": count}
    html = render_template(env, template_name, context)
    frame = layout_pdf(
        html,
        base_url=ASSETS_BASE_URL,
        assets_dir=assets_dir,
        pdf_variant=pdf_variant,
        fetch_log=fetch_log,
        reuse_style=True,
    )
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
    painted = write_document(frame, pdf_variant=pdf_variant, last_page_boxes=last_page_boxes)
    return underlay_pages(painted, cgv.pdf, list(zip(expected, range(count), strict=True)))
