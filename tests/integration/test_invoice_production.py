"""The PDF pipeline of the billing run (app/invoices/production.py): every issued invoice
gets its archived Factur-X PDF, with worker processes or without, the service path's PDF
reads exactly like the naive one's, and a run interrupted between issuing and archiving is
completed by the next run, without producing anything twice."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from facturx import get_facturx_xml_from_pdf, xml_check_xsd
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import func, select

from app.db import transaction
from app.documents.models import Document, DocumentKind
from app.invoices import issuing, jobs, pdfs
from app.invoices.models import Invoice
from app.invoices.production import PdfProducer
from app.invoices.renderer import render_invoice_pdf, render_invoice_pdf_naive
from app.pricing.lines import LineInput
from tests.factories import issue_to, make_client, runtime

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LINES = [
    LineInput("Abonnement Premium décembre", Decimal("12"), Decimal("100.00"), Decimal("20")),
    LineInput("Remise de lancement", Decimal("1"), Decimal("-100.00"), Decimal("20")),
    LineInput("Guide d'utilisation imprimé", Decimal("1"), Decimal("10.00"), Decimal("5.5")),
]


def _issue(app: Flask, client_id: int, lines: list[LineInput] = LINES) -> int:
    with transaction(runtime(app).session_factory) as session:
        invoice = issue_to(session, client_id, lines, now=NOW, actor="t")
        return invoice.id


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _archived(app: Flask) -> dict[str, bytes]:
    rt = runtime(app)
    with rt.session_factory() as session:
        rows = session.scalars(select(Invoice).order_by(Invoice.id)).all()
        found = {}
        for invoice in rows:
            assert invoice.document is not None, invoice.number
            found[invoice.number] = rt.store.get(invoice.document.sha256)
        return found


@pytest.mark.parametrize("workers", [1, 2])
def test_every_added_invoice_is_archived_in_order(app: Flask, workers: int) -> None:
    rt = runtime(app)
    client_id = make_client(app)
    done: list[int] = []
    with PdfProducer(
        rt.session_factory,
        rt.store,
        rt.settings.vendor,
        NOW,
        workers=workers,
        chunk=2,
        on_done=lambda: done.append(1),
    ) as producer:
        for _ in range(5):  # two full chunks and a remainder
            producer.add(_issue(app, client_id))
    assert producer.produced == 5 and len(done) == 5
    archived = _archived(app)
    assert list(archived) == [f"FAC-2026-{n:06d}" for n in range(1, 6)]
    for number, pdf in archived.items():
        _, xml = get_facturx_xml_from_pdf(pdf, check_xsd=False)
        assert xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
        assert f"Facture n° {number}" in _text(pdf)
        assert "page 1 / 1" in _text(pdf)


def test_service_path_reads_exactly_like_the_naive_path(app: Flask) -> None:
    rt = runtime(app)
    client_id = make_client(app)
    many = [
        LineInput(f"Prestation n° {n}", Decimal("1"), Decimal("10.00"), Decimal("20"))
        for n in range(1, 60)  # long enough for several pages, each "page X / N"
    ]
    for lines in (LINES, many):
        invoice_id = _issue(app, client_id, lines)
        with rt.session_factory() as session:
            doc = pdfs.invoice_document(
                session, issuing.get_invoice(session, invoice_id), rt.settings.vendor
            )
        service, naive = render_invoice_pdf(doc), render_invoice_pdf_naive(doc)
        assert _text(service) == _text(naive)
        assert (
            get_facturx_xml_from_pdf(service, check_xsd=False)[1]
            == (get_facturx_xml_from_pdf(naive, check_xsd=False)[1])
        )
    assert "page 1 / 3" in _text(service) and "page 3 / 3" in _text(service)


def test_an_interrupted_run_is_completed_by_the_next_one(app: Flask) -> None:
    rt = runtime(app)
    client_id = make_client(app)
    # a run stopped after issuing, before archiving: the invoice has its number, no PDF
    stranded = _issue(app, client_id)
    with rt.session_factory() as session:
        assert pdfs.without_pdf(session) == [stranded]
    boom = RuntimeError("arrêt brutal")
    # a producer interrupted with one chunk archived and one invoice still waiting
    producer = PdfProducer(rt.session_factory, rt.store, rt.settings.vendor, NOW, chunk=2)
    with pytest.raises(RuntimeError), producer:
        for _ in range(3):
            producer.add(_issue(app, client_id))
        raise boom
    assert producer.produced == 2
    with rt.session_factory() as session:
        waiting = pdfs.without_pdf(session)
    assert len(waiting) == 2 and waiting[0] == stranded
    report = jobs.run_period(rt.collaborators(NOW), "2026-12")
    assert report.recovered == 2 and report.issued == []
    archived = _archived(app)
    assert len(archived) == 4
    with rt.session_factory() as session:
        assert pdfs.without_pdf(session) == []
        deposits = session.scalar(
            select(func.count()).select_from(Document).where(Document.kind == DocumentKind.INVOICE)
        )
        assert deposits == 4
    # producing again an invoice that has its PDF changes nothing
    with PdfProducer(rt.session_factory, rt.store, rt.settings.vendor, NOW) as producer:
        producer.add(stranded)
    assert _archived(app) == archived
