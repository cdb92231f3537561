"""The platform's optional seal on invoices (PARAPHE_SEAL_INVOICES, off by default): the
archived invoice PDF carries a PAdES seal valid for pyHanko and for poppler's pdfsig, and
remains a Factur-X whose embedded XML is still valid against the EN 16931 schema."""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from facturx import get_facturx_xml_from_pdf, xml_check_xsd
from flask import Flask
from pypdf import PdfReader

from app.config import ConfigError, Settings
from app.db import transaction
from app.invoices import issuing, workflow
from app.invoices.sealing import INVOICE_SEAL_FIELD, invoice_sealer
from app.pki import trust_roots
from app.pricing.lines import LineInput
from signing import verify_pdf
from tests.conftest import sealing_around
from tests.factories import issue_to, make_client, runtime
from tests.integration.helpers import xmp_metadata

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LINES = [LineInput("Abonnement Premium décembre", Decimal("3"), Decimal("100.00"), Decimal("20"))]


@pytest.fixture
def sealing_app(settings: Settings, make_app: Callable[[Settings], Flask]) -> Flask:
    return make_app(replace(settings, seal_invoices=True))


@pytest.fixture
def sealing_at_now(
    settings: Settings, tmp_path: Path, make_app: Callable[[Settings], Flask]
) -> Flask:
    """Sealing on, with certificates valid at NOW: the test signs at NOW, whatever the date."""
    return make_app(replace(sealing_around(settings, tmp_path, NOW), seal_invoices=True))


def test_the_setting_is_off_by_default_and_checked(app: Flask, tmp_path: Path) -> None:
    assert runtime(app).settings.seal_invoices is False
    assert invoice_sealer(runtime(app).collaborators(NOW)) is None
    base = {"PARAPHE_INSTANCE_DIR": str(tmp_path)}
    assert Settings.from_env({**base, "PARAPHE_SEAL_INVOICES": "oui"}).seal_invoices is True
    assert Settings.from_env({**base, "PARAPHE_SEAL_INVOICES": "0"}).seal_invoices is False
    with pytest.raises(ConfigError, match="PARAPHE_SEAL_INVOICES"):
        Settings.from_env({**base, "PARAPHE_SEAL_INVOICES": "peut-être"})


def test_sealed_invoice_validates_and_stays_facturx(sealing_at_now: Flask) -> None:
    rt = runtime(sealing_at_now)
    client_id = make_client(sealing_at_now)
    with transaction(rt.session_factory) as session:
        invoice = issue_to(session, client_id, LINES, now=NOW, actor="t")
        invoice_id = invoice.id
    assert invoice_sealer(rt.collaborators(NOW)) is not None
    assert workflow.produce_pdfs(rt.collaborators(NOW), [invoice_id]) == 1
    with rt.session_factory() as session:
        stored = issuing.get_invoice(session, invoice_id)
        assert stored.document is not None
        pdf = rt.store.get(stored.document.sha256)
        totals = (stored.total_excl_vat, stored.total_vat, stored.total_incl_vat)

    report = verify_pdf(pdf, trust_roots(rt.settings), validation_time=NOW)
    assert report.all_intact_and_valid
    assert [s.field_name for s in report.signatures] == [INVOICE_SEAL_FIELD]
    assert all(s.trusted for s in report.signatures)
    path = rt.settings.instance_dir / "facture-cachet.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf)
    pdfsig = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    assert "Signature is Valid" in pdfsig.stdout, pdfsig.stdout + pdfsig.stderr
    assert "Total document signed" in pdfsig.stdout

    filename, xml = get_facturx_xml_from_pdf(pdf, check_xsd=False)
    assert filename == "factur-x.xml"
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    for amount in totals:
        assert f">{amount:.2f}<".encode() in xml
    assert totals == (Decimal("300.00"), Decimal("60.00"), Decimal("360.00"))
    reader = PdfReader(io.BytesIO(pdf))
    metadata = xmp_metadata(reader)
    assert re.search(rb"pdfaid:part(>|=\")3", metadata)
    assert b"urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#" in metadata
    assert "Facture n° FAC-2026-000001" in reader.pages[0].extract_text()


def test_a_credit_note_issued_from_the_web_is_sealed_too(
    sealing_app: Flask, settings: Settings
) -> None:
    """An avoir is an invoice for the law: with the setting on, its PDF carries the seal."""
    from app.auth.models import Role
    from app.documents.models import Document
    from app.invoices.models import CreditNote
    from tests.factories import login_as
    from tests.integration.credit_note_page import submit_credit_note

    rt = runtime(sealing_app)
    with transaction(rt.session_factory) as session:
        invoice = issue_to(session, make_client(sealing_app), LINES, now=NOW, actor="t")
        invoice_id = invoice.id
    sales = login_as(sealing_app, Role.SALES)
    response = submit_credit_note(
        sales,
        invoice_id,
        {"mode": "cancel", "reason": "Erreur de facturation"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with rt.session_factory() as session:
        note = session.query(CreditNote).one()
        document = session.get(Document, note.document_id)
        assert document is not None
        pdf = rt.store.get(document.sha256)
    report = verify_pdf(pdf, trust_roots(settings))
    assert report.all_intact_and_valid
    assert [s.field_name for s in report.signatures] == [INVOICE_SEAL_FIELD]
    _name, xml = get_facturx_xml_from_pdf(pdf, check_xsd=False)
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
