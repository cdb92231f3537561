"""The contract document's data: parties, quote lines, particular terms, signers and the
order of precedence, typed and already rounded; and the template context built from them.
Split from `contract.py` (the rendering), which imports it."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

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

PARTICULAR_TERMS = "Conditions particulières"
COMMERCIAL_PROPOSAL = "Proposition commerciale"
GENERAL_TERMS = "Conditions générales de vente"
DEFAULT_PRECEDENCE: tuple[str, ...] = (PARTICULAR_TERMS, COMMERCIAL_PROPOSAL, GENERAL_TERMS)
"""Particular terms first, as Code civil art. 1119 al. 3 presumes; a template setting."""

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


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
class PricedLineView:
    """A priced line as a document prints it (the contract's proposal, an invoice), amounts
    excl. VAT, already rounded."""

    position: int
    designation: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal
    total_excl_vat: Decimal


@dataclass(frozen=True)
class QuoteLineView(PricedLineView):
    """One line of the commercial proposal, with its unit and discount as printed."""

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
    """A person who signs, in signing order; ``role`` says for whom ("Client", "Pour X" ...),
    ``title`` in what capacity (« Directrice générale »; None: none stated, none printed).

    A plain ``(name, email, role[, title])`` tuple works too.
    """

    name: str
    email: str
    role: str
    title: str | None = None


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
    signers: tuple[Signer | tuple[str, str, str], ...]
    precedence: tuple[str, ...] = DEFAULT_PRECEDENCE
    global_discount: Decimal = Decimal("0.00")  # taken off subtotal_excl_vat, already rounded
    # The global discount's rate when the quote gave one (« Remise globale (5 %) », as the quote
    # page prints it); None for an amount.
    global_discount_rate: Decimal | None = None
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


def signature_slots(signers: Sequence[Signer | tuple[str, str, str]]) -> list[SignatureSlot]:
    """Each signer with its frame from ``geometry.signature_boxes`` and the matching CSS."""
    slots = []
    for index, (signer, rect) in enumerate(
        zip((Signer(*s) for s in signers), signature_boxes(len(signers)), strict=True)
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
