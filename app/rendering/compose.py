"""Putting pages painted apart into one PDF, with pikepdf (qpdf).

The contract's CGV pages are painted once per CGV text (``app.rendering.contract``) and
drawn, in each contract's PDF, underneath the empty page the contract's frame left for
them: the frame page keeps its running header and "page X / Y" footer, and the CGV page's
content stream becomes a form XObject drawn first, as a single render would draw the page
content before its margin boxes. Only page content moves: the frame keeps its catalog, its
PDF/A metadata and output intent, its outline and its signature geometry. Fonts travel with
the form XObject's resources, embedded as WeasyPrint embedded them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import pikepdf

from app.rendering.errors import RenderingError

UNDERLAY_PREFIX = "/ParapheUnderlay"
"""WeasyPrint names its own XObjects otherwise (``/x0``...): no clash."""


def underlay_pages(base: bytes, source: bytes, pairs: Sequence[tuple[int, int]]) -> bytes:
    """``base`` with each ``(base_index, source_index)`` page of ``source`` drawn under the
    matching page of ``base``. Pages must have the same size: a page is never scaled.

    The output's file identifier derives from its content (the same inputs give the same
    bytes, as WeasyPrint's own output does).
    """
    try:
        with pikepdf.open(io.BytesIO(base)) as target, pikepdf.open(io.BytesIO(source)) as pages:
            for base_index, source_index in pairs:
                under = target.pages[base_index]
                over = pages.pages[source_index]
                if [round(float(v), 2) for v in under.mediabox] != [
                    round(float(v), 2) for v in over.mediabox
                ]:
                    raise RenderingError(
                        f"page {source_index + 1} des CGV et page {base_index + 1} du contrat "
                        "de tailles différentes"
                    )
                form = target.copy_foreign(over.as_form_xobject())
                # A fixed name per page: pikepdf's add_underlay draws a random one, and the
                # same contract must give the same bytes. One name per page, since
                # WeasyPrint shares one resource dictionary between all its pages.
                name = under.add_resource(
                    form, pikepdf.Name.XObject, pikepdf.Name(f"{UNDERLAY_PREFIX}{source_index}")
                )
                placement = under.calc_form_xobject_placement(
                    form,
                    name,
                    pikepdf.Rectangle(*under.mediabox),
                    invert_transformations=True,
                    allow_shrink=False,
                    allow_expand=False,
                )
                under.contents_add(placement, prepend=True)  # drawn first: underneath
            out = io.BytesIO()
            target.save(out, deterministic_id=True)
    except pikepdf.PdfError as exc:
        raise RenderingError(f"assemblage PDF impossible : {exc}") from exc
    return out.getvalue()
