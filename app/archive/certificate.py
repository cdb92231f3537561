"""The deletion certificate PDF: what was deleted (with hashes), what is kept and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from app.documents.models import Document
from app.rendering.french import format_date
from app.rendering.jinja import CONTRACT_TEMPLATES_DIR, TEMPLATES_ROOT, make_environment
from app.rendering.jinja import render_template as render_document_template
from app.rendering.labels import DOCUMENT_KIND_LABELS
from app.rendering.pdf import ASSETS_BASE_URL, render_pdf


@dataclass(frozen=True)
class CertificateLine:
    kind_label: str
    reference: str
    version: int
    size: int
    sha256: str
    retention_until: str
    reason: str


@dataclass(frozen=True)
class CertificateView:
    reference: str
    issued_at: datetime
    vendor_name: str
    vendor_siren: str
    client_name: str
    client_siren: str
    terminated_on: date | None
    deleted: Sequence[CertificateLine]
    kept: Sequence[CertificateLine]
    anonymised: bool
    backups_erased: bool = False  # the client's backup key destroyed with this purge


def line(document: Document, locked: str | None = None) -> CertificateLine:
    """One row of the certificate; `locked`: why the store still keeps a document whose
    retention has ended (its write-once lock, `purge.DeferredItem.reason`)."""
    if locked is not None:
        reason = f"Conservé : {locked}"
    elif document.legal_hold:
        reason = f"Gel juridique : {document.legal_hold_reason or 'motif non précisé'}"
    else:
        reason = document.retention_basis or "durée de conservation légale"
    until = format_date(document.retention_until) if document.retention_until else "fin du contrat"
    return CertificateLine(
        kind_label=DOCUMENT_KIND_LABELS[document.kind.value],
        reference=document.reference,
        version=document.version,
        size=document.size,
        sha256=document.sha256,
        retention_until=until,
        reason=reason,
    )


def render_certificate(view: CertificateView) -> bytes:
    env = make_environment([TEMPLATES_ROOT / "archive"])
    html = render_document_template(
        env,
        "deletion_certificate.html",
        {"c": view, "created_w3c": view.issued_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")},
    )
    return render_pdf(html, base_url=ASSETS_BASE_URL, assets_dir=CONTRACT_TEMPLATES_DIR / "assets")
