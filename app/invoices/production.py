"""Producing issued documents' Factur-X PDFs while the caller keeps issuing (a pipeline):
the engine behind ``workflow.produce_pdfs``.

Issuing is one short transaction per invoice (the number lock is held only for that); the
PDF is produced afterwards, outside any transaction. ``PdfProducer`` overlaps the two:
ids are queued as they are issued; each chunk's documents are read in one short
transaction, sent to a pool of worker processes started up front (each keeps one
``InvoiceRenderer``: environment, stylesheet, fonts and XSD compiled once), sealed when
they come back (in this process, no transaction open), then archived in ONE short
transaction, while the next invoices are being issued and rendered. The database waits
(commits, blob fsyncs) of the caller thus overlap the CPU work of the renderers.

Crash and retry: an invoice is issued (number taken) before its PDF exists. If the run
stops before its chunk is archived, the invoice stays without a document and
``pdfs.without_pdf`` finds it; the next run produces it. Reading skips a document that has
its PDF, and attaching re-checks under a row lock, so producing twice, even at the same
time, archives one PDF; a chunk's transaction attaches all or none of its PDFs.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from app.db import transaction
from app.invoices import pdfs
from app.invoices.document import InvoiceDocument
from app.invoices.mailing import MailingContext
from app.invoices.pdfs import Issued
from app.invoices.renderer import render_invoice_pdf, renderer
from app.vendor_settings import VendorIdentity
from storage import BlobStore

DEFAULT_CHUNK = 8
"""Documents per task sent to a worker: few enough to keep both workers busy and the
pipeline short, enough to make the inter-process traffic negligible."""


def _warm_up() -> None:
    """Worker initializer: build the renderer while the caller issues the first chunk."""
    renderer()


def render_chunk(docs: Sequence[InvoiceDocument]) -> list[bytes]:
    """The Factur-X PDFs of ``docs``, in order, with this process's renderer."""
    return [render_invoice_pdf(doc) for doc in docs]


class PdfProducer:
    """``add(id)`` each issued document; on leaving the ``with`` block every added
    document's PDF is rendered and archived. With ``workers`` ≤ 1 everything runs in this
    process, chunk by chunk. ``seal``, when given, seals each PDF just before it is
    archived, with no transaction open."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        store: BlobStore,
        vendor: VendorIdentity,
        now: datetime,
        *,
        kind: Issued = Issued.INVOICE,
        workers: int = 1,
        chunk: int = DEFAULT_CHUNK,
        actor: str = "job:invoices",
        on_done: Callable[[], None] = lambda: None,
        seal: Callable[[bytes], bytes] | None = None,
        mailing: MailingContext | None = None,
    ) -> None:
        self.factory = factory
        self.store = store
        self.vendor = vendor
        self.now = now
        self.kind = kind
        self.workers = workers
        self.chunk = max(1, chunk)
        self.actor = actor
        self.on_done = on_done
        self.seal = seal  # the platform's seal, applied before archiving (sealing.py)
        self.mailing = mailing  # the billing contacts get each archived PDF (mailing.py)
        self.produced = 0  # PDFs this producer attached (not those found already there)
        self._waiting: list[int] = []
        self._running: deque[tuple[list[int], list[int], Future[list[bytes]]]] = deque()
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
                # on an error, chunks not yet archived are dropped: their documents stay
                # without a PDF and the next run produces them
                self._pool.shutdown(wait=True, cancel_futures=exc_type is not None)
                self._pool = None

    def add(self, issued_id: int) -> None:
        self._waiting.append(issued_id)
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
        with transaction(self.factory) as session:  # read only, short
            todo = pdfs.documents_to_render(session, self.kind, ids, self.vendor)
        docs = [doc for _, doc in todo]
        future: Future[list[bytes]]
        if self._pool is None:
            future = Future()
            future.set_result(render_chunk(docs))
        else:
            future = self._pool.submit(render_chunk, docs)
        self._running.append((ids, [issued_id for issued_id, _ in todo], future))

    def _archive(self, *, block: bool) -> None:
        """Seal, then archive the rendered chunks in issuing order (one transaction each)."""
        while self._running and (block or self._running[0][2].done()):
            ids, rendered_ids, future = self._running.popleft()
            rendered = future.result()  # a rendering error propagates: nothing of it archived
            if self.seal is not None:
                rendered = [self.seal(pdf) for pdf in rendered]
            with transaction(self.factory) as session:
                for issued_id, pdf in zip(rendered_ids, rendered, strict=True):
                    if pdfs.attach_pdf(
                        session,
                        self.store,
                        self.kind,
                        issued_id,
                        pdf,
                        now=self.now,
                        actor=self.actor,
                        mailing=self.mailing,
                    ):
                        self.produced += 1
            for _ in ids:
                self.on_done()
