"""The contract's pages as images for the signing page, rendered once per document.

A PDF in an <iframe> is blank on many phones and in headless browsers; a PNG per page shows
everywhere and can be read at 360 px wide. Rendered by poppler's `pdftoppm`, already installed
for the tests that compare rasterised pages (no new wheel), run as a separate process with a
timeout: a slow or crashing render cannot take the worker down with it.

The job (`tasks.render_page_images`) calls `render`; the page reads `pages_of`. Blobs are
content-addressed, so a second render (a retry, two workers at once) stores the same bytes
under the same keys, and the unique (document, page) key keeps one set of rows.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.db import transaction
from app.documents.models import Document
from app.documents.services import read_content
from app.signatures.models import PageImage
from storage import BlobStore

WIDTH = 1200
"""Pixels across: sharp on a 360 px phone at 3x and on a desktop column of ~800 px at 1.5x."""
RENDER_TIMEOUT = 300  # seconds; a 100-page contract takes well under a minute
ACTOR = "job:page-images"


class RenderFailed(Exception):
    """pdftoppm refused the PDF or ran out of time (the queue retries the job)."""


@dataclass(frozen=True)
class RenderedPage:
    png: bytes
    width: int
    height: int


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk (always the first, at a fixed offset)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise RenderFailed("pdftoppm a produit autre chose qu'une image PNG")
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def rasterise(pdf: bytes, width: int = WIDTH) -> list[RenderedPage]:
    """Each page of `pdf` as a PNG `width` pixels across, in order."""
    program = shutil.which("pdftoppm")
    if program is None:
        raise RenderFailed("pdftoppm introuvable : installez le paquet poppler-utils")
    with tempfile.TemporaryDirectory(prefix="paraphe-pages-") as tmp:
        source = Path(tmp) / "document.pdf"
        source.write_bytes(pdf)
        try:
            subprocess.run(  # noqa: S603 (fixed program, arguments are ours)
                [
                    program,
                    "-png",
                    "-scale-to-x",
                    str(width),
                    "-scale-to-y",
                    "-1",
                    str(source),
                    str(Path(tmp) / "page"),
                ],
                check=True,
                capture_output=True,
                timeout=RENDER_TIMEOUT,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            raise RenderFailed(f"rendu des pages impossible : {exc}") from exc
        # page-01.png … page-10.png: zero-padded to the same width, so the names sort in order.
        pages = []
        for path in sorted(Path(tmp).glob("page-*.png")):
            png = path.read_bytes()
            pages.append(RenderedPage(png, *png_size(png)))
    if not pages:
        raise RenderFailed("le PDF n'a aucune page")
    return pages


def pages_of(session: Session, document_id: int) -> Sequence[PageImage]:
    """The document's page images in order; empty while they are not rendered yet."""
    return session.scalars(
        select(PageImage).where(PageImage.document_id == document_id).order_by(PageImage.page)
    ).all()


def page_of(session: Session, document_id: int, page: int) -> PageImage | None:
    return session.scalar(
        select(PageImage).where(PageImage.document_id == document_id, PageImage.page == page)
    )


def referenced(session: Session) -> dict[str, list[str]]:
    """Every page image's blob key, with what holds it (for `storage scrub`: not orphans)."""
    refs: dict[str, list[str]] = {}
    for document_id, page, sha256 in session.execute(
        select(PageImage.document_id, PageImage.page, PageImage.sha256).order_by(PageImage.id)
    ):
        refs.setdefault(sha256, []).append(f"page {page} en image du document n° {document_id}")
    return refs


def discard(session: Session, store: BlobStore, document_id: int) -> int:
    """Delete the document's page images, rows and blobs (its purge: an image of a page holds
    what the page holds); a blob another document's image shares stays. The rows deleted."""
    images = pages_of(session, document_id)
    keys = {image.sha256 for image in images}
    for image in images:
        session.delete(image)
    session.flush()
    still_used = set(session.scalars(select(PageImage.sha256).where(PageImage.sha256.in_(keys))))
    for key in keys - still_used:
        store.delete(key)  # never locked: derived images carry no retention of their own
    return len(images)


def render(
    factory: sessionmaker[Session], store: BlobStore, document_id: int, *, now: datetime
) -> int:
    """Render and record the document's page images, unless done already; the page count.

    No transaction is open while pdftoppm runs. Raises `DocumentIntegrityFailed` (journaled)
    for a damaged PDF, `RenderFailed` when poppler fails."""
    with transaction(factory) as session:
        if page_of(session, document_id, 1) is not None:
            return len(pages_of(session, document_id))
        document = session.get(Document, document_id)
        if document is None or document.purged_at is not None:
            return 0  # nothing left to show
        # Verified like any read; not journaled as one: nobody reads it, the images are derived
        # from it, and each signer's own reads of the PDF and its pages are the evidence.
        pdf = read_content(session, store, document, actor=ACTOR, now=now, journal_read=False)
    pages = rasterise(pdf)
    refs = [store.put(page.png) for page in pages]
    with transaction(factory) as session:
        try:
            with session.begin_nested():  # another run got there first: its rows stand
                session.add_all(
                    PageImage(
                        document_id=document_id,
                        page=n,
                        sha256=ref.sha256,
                        width=page.width,
                        height=page.height,
                        created_at=now,
                    )
                    for n, (page, ref) in enumerate(zip(pages, refs, strict=True), start=1)
                )
        except IntegrityError:
            pass
    return len(pages)
