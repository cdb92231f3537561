"""Producing issued invoices' Factur-X PDFs while the caller keeps issuing (a pipeline).

Issuing is one short transaction per invoice (the number lock is held only for that); the
PDF is produced afterwards, outside any transaction. ``PdfProducer`` overlaps the two:
invoice ids are queued as they are issued, sent by chunks to a pool of worker processes
started up front (each keeps one ``InvoiceRenderer``: environment, stylesheet, fonts and
XSD compiled once), and each chunk's PDFs are archived in ONE transaction as soon as they
come back, while the next invoices are being issued and rendered. The database waits
(commits, blob fsyncs) of the caller thus overlap the CPU work of the renderers.

Crash and retry: an invoice is issued (number taken) before its PDF exists. If the run
stops before its chunk is archived, the invoice stays without a document and
``invoices_without_pdf`` finds it; the next run produces it (``jobs.run_period`` does so
first). Archiving skips an invoice that already has its document, so producing twice is
harmless; a chunk's transaction attaches all or none of its PDFs.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from app.config import VendorIdentity
from app.db import transaction
from app.invoices import issuing, pdfs
from app.invoices.document import InvoiceDocument, render_invoice_pdf, renderer
from storage import BlobStore

DEFAULT_CHUNK = 8
"""Invoices per task sent to a worker: few enough to keep both workers busy and the
pipeline short, enough to make the inter-process traffic negligible."""


def _warm_up() -> None:
    """Worker initializer: build the renderer while the caller issues the first chunk."""
    renderer()


def render_chunk(docs: Sequence[InvoiceDocument]) -> list[bytes]:
    """The Factur-X PDFs of ``docs``, in order, with this process's renderer."""
    return [render_invoice_pdf(doc) for doc in docs]


class PdfProducer:
    """``add(invoice_id)`` each issued invoice; on leaving the ``with`` block every added
    invoice's PDF is rendered and archived (kind invoice, 10-year retention). With
    ``workers`` ≤ 1 everything runs in this process, chunk by chunk. ``seal``, when
    given, seals each PDF in this process just before it is archived."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        store: BlobStore,
        vendor: VendorIdentity,
        now: datetime,
        *,
        workers: int = 1,
        chunk: int = DEFAULT_CHUNK,
        actor: str = "job:invoices",
        on_done: Callable[[], None] = lambda: None,
        seal: Callable[[bytes], bytes] | None = None,
    ) -> None:
        self.factory = factory
        self.store = store
        self.vendor = vendor
        self.now = now
        self.workers = workers
        self.chunk = max(1, chunk)
        self.actor = actor
        self.on_done = on_done
        self.seal = seal  # the platform's seal, applied before archiving (sealing.py)
        self.produced = 0
        self._waiting: list[int] = []
        self._running: deque[tuple[list[int], Future[list[bytes]]]] = deque()
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> PdfProducer:
        if self.workers > 1:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_warm_up,
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.flush()
        finally:
            if self._pool is not None:
                # on an error, chunks not yet archived are dropped: their invoices stay
                # without a PDF and the next run produces them
                self._pool.shutdown(wait=True, cancel_futures=exc_type is not None)
                self._pool = None

    def add(self, invoice_id: int) -> None:
        self._waiting.append(invoice_id)
        if len(self._waiting) >= self.chunk:
            self._submit()
        self._archive(block=False)

    def flush(self) -> None:
        """Render and archive everything added so far (blocking)."""
        if self._waiting:
            self._submit()
        self._archive(block=True)

    def _submit(self) -> None:
        ids, self._waiting = self._waiting, []
        with self.factory() as session:
            docs = [
                pdfs.invoice_document(session, issuing.get_invoice(session, i), self.vendor)
                for i in ids
            ]
        future: Future[list[bytes]]
        if self._pool is None:
            future = Future()
            future.set_result(render_chunk(docs))
        else:
            future = self._pool.submit(render_chunk, docs)
        self._running.append((ids, future))

    def _archive(self, *, block: bool) -> None:
        """Archive the rendered chunks, in issuing order (one transaction per chunk)."""
        while self._running and (block or self._running[0][1].done()):
            ids, future = self._running.popleft()
            rendered = future.result()  # a rendering error propagates: nothing of it archived
            with transaction(self.factory) as session:
                for invoice_id, pdf in zip(ids, rendered, strict=True):
                    invoice = issuing.get_invoice(session, invoice_id)
                    if invoice.document_id is None:
                        sealed = self.seal(pdf) if self.seal is not None else pdf
                        pdfs.archive_invoice(
                            session, self.store, invoice, sealed, now=self.now, actor=self.actor
                        )
            for _ in ids:
                self.produced += 1
                self.on_done()
