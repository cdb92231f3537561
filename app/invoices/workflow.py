"""Multi-transaction use cases of invoicing: producing issued documents' PDFs.

``produce_pdfs`` is the one render → (optional seal) → archive path, used by the issuing
pages, the CLI and the billing run alike. It reads in one short transaction, renders and
seals with no transaction open (WeasyPrint and pyHanko take seconds; on SQLite an open
transaction is the database's write lock), then deposits and attaches in another short
transaction that re-checks under a row lock. It is idempotent: run twice, or twice at
once, it archives one PDF per document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from app.db import transaction
from app.invoices import pdfs
from app.invoices.mailing import MailingContext
from app.invoices.pdfs import Issued
from app.invoices.production import PdfProducer
from app.invoices.sealing import invoice_sealer
from app.runtime import Collaborators

__all__ = [
    "Issued",
    "count_without_pdf",
    "missing_pdfs",
    "pdf_producer",
    "produce_missing_pdfs",
    "produce_pdfs",
]


def pdf_producer(
    collab: Collaborators,
    *,
    kind: Issued = Issued.INVOICE,
    workers: int = 1,
    actor: str = "system",
    on_done: Callable[[], None] = lambda: None,
) -> PdfProducer:
    """A producer to feed while issuing (the billing run): ``with`` it, ``add`` each id."""
    return PdfProducer(
        collab.session_factory,
        collab.store,
        collab.settings.vendor,
        collab.now,
        kind=kind,
        workers=workers,
        actor=actor,
        on_done=on_done,
        seal=invoice_sealer(collab),
        mailing=MailingContext(collab.settings.vendor.legal_name, collab.settings.base_url),
    )


def produce_pdfs(
    collab: Collaborators,
    ids: Sequence[int],
    *,
    kind: Issued = Issued.INVOICE,
    workers: int = 1,
    actor: str = "system",
    on_done: Callable[[], None] = lambda: None,
) -> int:
    """Render, seal when the setting asks for it, and archive the PDFs of ``ids`` that
    have none yet; the number of PDFs archived by this call."""
    with pdf_producer(collab, kind=kind, workers=workers, actor=actor, on_done=on_done) as producer:
        for issued_id in ids:
            producer.add(issued_id)
    return producer.produced


def missing_pdfs(collab: Collaborators) -> dict[Issued, list[int]]:
    """The issued invoices and credit notes still without their PDF, oldest first."""
    with transaction(collab.session_factory) as session:
        return {kind: pdfs.without_pdf(session, kind) for kind in Issued}


def produce_missing_pdfs(
    collab: Collaborators,
    *,
    workers: int = 1,
    actor: str = "system",
    on_done: Callable[[], None] = lambda: None,
) -> int:
    """Produce every PDF a failure left missing (after issuing, before archiving)."""
    return sum(
        produce_pdfs(collab, ids, kind=kind, workers=workers, actor=actor, on_done=on_done)
        for kind, ids in missing_pdfs(collab).items()
        if ids
    )


def count_without_pdf(collab: Collaborators, issued: Sequence[tuple[Issued, int]]) -> int:
    """How many of ``issued`` still have no PDF (what a command waiting for the queue's
    workers shows)."""
    with transaction(collab.session_factory) as session:
        return sum(1 for kind, issued_id in issued if not pdfs.has_pdf(session, kind, issued_id))
