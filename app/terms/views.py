"""The CGV pages, all on one blueprint: versions (list, detail, progress, public PDF,
comparison: ``version_pages``), publication (the form: ``publication_pages``; the preview it
leads to and its publication: ``preview_pages``), the click-through acceptance page
(``acceptance_pages``) and the opposability report (``report_pages``)."""

from __future__ import annotations

# Importing the page modules registers their routes on the blueprint.
from app.terms import (
    acceptance_pages,
    preview_pages,
    publication_pages,
    report_pages,
    version_pages,
)
from app.terms.blueprint import bp

__all__ = [
    "acceptance_pages",
    "bp",
    "preview_pages",
    "publication_pages",
    "report_pages",
    "version_pages",
]
