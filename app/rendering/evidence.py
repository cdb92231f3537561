"""The evidence file (dossier de preuve) as a PDF/A-3b, from its JSON form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.rendering.contract import CONTRACT_ASSETS_DIR
from app.rendering.jinja import make_environment, render_template
from app.rendering.pdf import ASSETS_BASE_URL, render_pdf

EVIDENCE_TEMPLATE = "evidence.html"


def render_evidence_pdf(evidence: Mapping[str, Any]) -> bytes:
    html = render_template(make_environment(), EVIDENCE_TEMPLATE, {"e": evidence})
    return render_pdf(html, base_url=ASSETS_BASE_URL, assets_dir=CONTRACT_ASSETS_DIR)
