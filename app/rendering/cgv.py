"""A published CGV version as its own PDF/A-3b: the text every client can read at a stable URL.

Rendered once at publication (deterministic: the PDF's dates are the publication time) and
archived with its SHA-256; the Markdown body goes through the same inert Markdown renderer as
contracts, inside the same sandboxed Jinja environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from app.rendering.contract import CONTRACT_ASSETS_DIR
from app.rendering.geometry import PAGE_HEIGHT, PAGE_MARGINS, PAGE_WIDTH
from app.rendering.jinja import make_environment, render_template
from app.rendering.pdf import ASSETS_BASE_URL, render_pdf

CGV_TEMPLATE = "cgv.html"


@dataclass(frozen=True)
class CgvDocument:
    vendor_name: str
    label: str
    title: str
    effective_date: date
    kind_label: str  # "mineure" / "substantielle"
    summary: str
    body_markdown: str
    sha256: str  # of body_markdown: the hash acceptances refer to
    published_at: datetime

    def __post_init__(self) -> None:
        if self.published_at.tzinfo is None or self.published_at.utcoffset() is None:
            raise ValueError("published_at doit porter un fuseau horaire (UTC en base)")


def cgv_context(doc: CgvDocument) -> dict[str, Any]:
    m = PAGE_MARGINS
    return {
        "doc": doc,
        "created_w3c": doc.published_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "page_css": (
            f"size: {PAGE_WIDTH}pt {PAGE_HEIGHT}pt; "
            f"margin: {m.top}pt {m.right}pt {m.bottom}pt {m.left}pt;"
        ),
    }


def render_cgv_html(doc: CgvDocument) -> str:
    return render_template(make_environment(), CGV_TEMPLATE, cgv_context(doc))


def render_cgv_pdf(doc: CgvDocument) -> bytes:
    """The version as a PDF/A-3b (bundled fonts only, nothing fetched from elsewhere)."""
    return render_pdf(
        render_cgv_html(doc), base_url=ASSETS_BASE_URL, assets_dir=CONTRACT_ASSETS_DIR
    )
