"""The invoice PDF: every mandatory mention on the rendered text, Factur-X EN 16931 XML valid
against the official schema, totals equal in the XML, the PDF and the database, archived."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from facturx import get_facturx_xml_from_pdf, xml_check_xsd
from flask import Flask
from lxml import etree
from pypdf import PdfReader

from app.db import transaction
from app.documents.models import Document, DocumentKind
from app.invoices import issuing, pdfs
from app.invoices.cii import NS, cii_xml
from app.invoices.document import credit_note_document, invoice_document
from app.invoices.models import Invoice
from app.invoices.pdfs import Issued
from app.invoices.renderer import render_html, render_invoice_pdf
from app.pricing.lines import LineInput
from tests import en16931
from tests.factories import issue_to, make_client, runtime
from tests.integration.helpers import xmp_metadata

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LINES = [
    LineInput("Abonnement Premium décembre", Decimal("12"), Decimal("100.00"), Decimal("20")),
    LineInput("Remise de lancement", Decimal("1"), Decimal("-100.00"), Decimal("20")),
    LineInput("Guide d'utilisation imprimé", Decimal("1"), Decimal("10.00"), Decimal("5.5")),
]


def _text(pdf: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"[\u00a0\u202f]", " ", text)


def _xml_value(root: etree._Element, path: str) -> str:
    found = root.find(path, NS)
    assert found is not None, path
    return str(found.text)


def test_invoice_pdf_mentions_facturx_and_archive(app: Flask) -> None:
    rt = runtime(app)
    client_id = make_client(app)
    with transaction(rt.session_factory) as session:
        invoice = issue_to(session, client_id, LINES, now=NOW)
        invoice_id = invoice.id
    with transaction(rt.session_factory) as session:
        invoice = issuing.get_invoice(session, invoice_id)
        pdf = render_invoice_pdf(pdfs.invoice_document(session, invoice, rt.settings.vendor))
        pdfs.attach_pdf(session, rt.store, Issued.INVOICE, invoice.id, pdf, now=NOW, actor="test")

    text = _text(pdf)
    vendor = rt.settings.vendor
    mentions = {
        "seller name": vendor.legal_name,
        "seller address": "12 rue de la Paix",
        "seller SIREN": "SIREN : 732 829 320",  # grouped by three, as in the RCS mention
        "seller VAT": vendor.vat_number,
        "buyer name": "Boulangerie Lefèvre & Fils",
        "buyer address": "3 place de la Bourse",
        "buyer city": "69002 Lyon",
        "buyer SIREN": "SIREN : 552 100 554",
        "buyer VAT": "FR96552100554",
        "number": "Facture n° FAC-2026-000001",
        "date": "Date d'émission : 1er décembre 2026",
        "due date": "Date d'échéance : 31 décembre 2026",
        "designation": "Abonnement Premium décembre",
        "quantity and unit price": "12 100,00 €",
        "VAT rate": "5,5 %",
        "discount": "Remise : Remise de lancement",
        "discount total": "Remises HT \u2212100,00 €",  # the minus sign, not a hyphen
        "total excl. VAT": "Total HT 1 110,00 €",
        "VAT 20": "TVA 20 % sur 1 100,00 € 220,00 €",
        "VAT 5.5": "TVA 5,5 % sur 10,00 € 0,55 €",
        "total incl. VAT": "Total TTC 1 330,55 €",
        "payment terms": "paiement à 30 jours, au plus tard le 31 décembre 2026",
        "payment method": "Mode de paiement : Virement bancaire",
        "late penalty rate": "majoré de 10 points de pourcentage",
        "recovery indemnity": "frais de recouvrement en cas de retard de paiement : 40,00 €",
        "early payment": "Pas d'escompte pour paiement anticipé",
        "category of operation": "Catégorie de l'opération : Prestations de services",
        "bank account": "IBAN FR76 3000 6000 0112 3456 7890 189",
        "transfer reference": "référence du virement : FAC-2026-000001",
    }
    flat = re.sub(r"\s+", " ", text)
    missing = {k: v for k, v in mentions.items() if v not in flat}
    assert not missing, (missing, flat)

    filename, xml = get_facturx_xml_from_pdf(pdf, check_xsd=False)
    assert filename == "factur-x.xml"
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    assert not en16931.check(xml).rules_broken, en16931.check(xml).violations
    assert "-100" not in flat  # printed with the minus sign, above
    # The XML is for machines: its amounts stay xs:decimal (checked below), no typography.
    assert "\u2212".encode() not in xml
    assert "débits" not in flat  # VAT on receipts: the default, nothing to print
    assert "Exonération" not in flat  # no exempt base, no exemption mention
    root = etree.fromstring(xml)
    guideline = "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"
    assert _xml_value(root, guideline) == "urn:cen.eu:en16931:2017"
    summation = (
        "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"
        "ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"
    )
    with rt.session_factory() as session:
        stored = session.get(Invoice, invoice_id)
        assert stored is not None and stored.document is not None
        assert Decimal(_xml_value(root, summation + "TaxBasisTotalAmount")) == stored.total_excl_vat
        assert Decimal(_xml_value(root, summation + "TaxTotalAmount")) == stored.total_vat
        assert Decimal(_xml_value(root, summation + "GrandTotalAmount")) == stored.total_incl_vat
        assert Decimal(_xml_value(root, summation + "AllowanceTotalAmount")) == Decimal("100.00")
        assert stored.total_incl_vat == Decimal("1330.55")  # the figure printed above
        assert _xml_value(root, "rsm:ExchangedDocument/ram:ID") == stored.number
        archived = session.get(Document, stored.document.id)
        assert archived is not None and archived.kind == DocumentKind.INVOICE
        assert archived.retention_basis and "10" in archived.retention_basis
        assert rt.store.get(archived.sha256) == pdf
    metadata = xmp_metadata(PdfReader(io.BytesIO(pdf)))
    assert re.search(rb"pdfaid:part(>|=\")3", metadata), metadata[:500]
    assert b"urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#" in metadata


def test_credit_note_xml_is_valid_and_references_the_invoice(app: Flask) -> None:
    rt = runtime(app)
    client_id = make_client(app)
    with transaction(rt.session_factory) as session:
        invoice = issue_to(session, client_id, LINES, now=NOW, actor="t")
        note = issuing.issue_credit_note(
            session, invoice=invoice, reason="Annulation", now=NOW, actor="t"
        )
        xml = cii_xml(credit_note_document(note, rt.settings.vendor))
        invoice_issued_on = invoice.issued_on
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    assert not en16931.check(xml).rules_broken, en16931.check(xml).violations
    root = etree.fromstring(xml)
    assert _xml_value(root, "rsm:ExchangedDocument/ram:TypeCode") == "381"
    referenced = (
        "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"
        "ram:InvoiceReferencedDocument/ram:IssuerAssignedID"
    )
    assert _xml_value(root, referenced) == "FAC-2026-000001"
    issued = root.find(
        "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"
        "ram:InvoiceReferencedDocument/ram:FormattedIssueDateTime/qdt:DateTimeString",
        NS,
    )
    assert issued is not None and issued.get("format") == "102"  # BT-26
    assert issued.text == invoice_issued_on.strftime("%Y%m%d")


def test_vendor_options_reach_the_pdf_and_the_xml(app: Flask) -> None:
    """A vendor that opted for VAT on debits and gave its BIC: both printed, both in the XML,
    and the XML still passes the EN 16931 rules."""
    rt = runtime(app)
    vendor = replace(rt.settings.vendor, vat_on_debits=True, bic="AGRIFRPPXXX")
    client_id = make_client(app)
    with transaction(rt.session_factory) as session:
        invoice = issue_to(session, client_id, LINES, now=NOW, actor="t")
        pdf = render_invoice_pdf(pdfs.invoice_document(session, invoice, vendor))
    flat = re.sub(r"\s+", " ", _text(pdf))
    assert "TVA : Option pour le paiement de la taxe d'après les débits." in flat
    assert "IBAN FR76 3000 6000 0112 3456 7890 189, BIC AGRIFRPPXXX" in flat
    _, xml = get_facturx_xml_from_pdf(pdf, check_xsd=True)
    assert not en16931.check(xml).rules_broken
    root = etree.fromstring(xml)
    settlement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"
    assert {
        t.text for t in root.iterfind(settlement + "ram:ApplicableTradeTax/ram:DueDateTypeCode", NS)
    } == {"5"}
    assert (
        _xml_value(
            root,
            settlement + "ram:SpecifiedTradeSettlementPaymentMeans/"
            "ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID",
        )
        == "AGRIFRPPXXX"
    )


def test_exempt_line_prints_the_provision_that_exempts_it(app: Flask) -> None:
    rt = runtime(app)
    reason = "Exonération de TVA, article 261-4-4° a du CGI (formation professionnelle continue)"
    vendor = replace(rt.settings.vendor, vat_exemption_reason=reason)
    training = LineInput("Journée de formation", Decimal("2"), Decimal("900.00"), Decimal("0"))
    with transaction(rt.session_factory) as session:
        invoice = issue_to(session, make_client(app), [*LINES, training], now=NOW, actor="t")
        pdf = render_invoice_pdf(pdfs.invoice_document(session, invoice, vendor))
    flat = re.sub(r"\s+", " ", _text(pdf))
    assert "TVA 0 % sur 1 800,00 € 0,00 €" in flat
    assert f"TVA 0 % : {reason}." in flat
    _, xml = get_facturx_xml_from_pdf(pdf, check_xsd=True)
    assert not en16931.check(xml).rules_broken
    assert reason.encode() in xml


def test_a_credit_note_reads_as_an_avoir_and_references_its_invoice(app: Flask) -> None:
    """An avoir asks for no payment: no payment method, late penalties, recovery indemnity
    nor early-payment discount, in its PDF or its XML (still valid: XSD and Schematron)."""
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        invoice = issue_to(session, make_client(app), LINES, now=NOW, actor="t")
        note = issuing.issue_credit_note(
            session, invoice=invoice, reason="Annulation", now=NOW, actor="t"
        )
        pdf = render_invoice_pdf(credit_note_document(note, rt.settings.vendor))
        invoice_number, note_number = invoice.number, note.number
    flat = re.sub(r"\s+", " ", _text(pdf))
    assert f"Avoir n° {note_number}" in flat
    assert f"Avoir sur la facture : {invoice_number} du 1er décembre 2026" in flat
    assert f"Avoir à imputer sur la facture {invoice_number}." in flat
    assert "Avoir électronique au format Factur-X (profil EN 16931)" in flat
    for invoice_only in (
        "Facture électronique",
        "Mode de paiement",
        "Virement bancaire",
        "pénalités de retard",
        "Indemnité forfaitaire",
        "Escompte",
        "Date d'échéance",
    ):
        assert invoice_only not in flat, invoice_only

    _name, xml = get_facturx_xml_from_pdf(pdf, check_xsd=False)
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    report = en16931.check(xml)
    assert not report.rules_broken, report.violations
    root = etree.fromstring(xml)
    subjects = {
        note.findtext("ram:SubjectCode", namespaces=NS)
        for note in root.iterfind("rsm:ExchangedDocument/ram:IncludedNote", NS)
    }
    assert subjects == {"AAI"}  # the category of operation; no PMD, PMT, AAB
    settlement = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"
    assert _xml_value(root, settlement + "ram:SpecifiedTradePaymentTerms/ram:Description") == (
        f"Avoir à imputer sur la facture {invoice_number}."
    )
    referenced = settlement + "ram:InvoiceReferencedDocument/ram:IssuerAssignedID"
    assert _xml_value(root, referenced) == invoice_number


def test_identifiers_are_grouped_and_never_broken_across_lines(app: Flask) -> None:
    """SIREN, RCS and VAT numbers: no-break spaces inside, the SIREN grouped by three like
    the RCS number; the XML keeps the SIREN compact (its identifier scheme)."""
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        invoice = issue_to(session, make_client(app), LINES, now=NOW, actor="t")
        note = issuing.issue_credit_note(
            session, invoice=invoice, reason="Annulation", now=NOW, actor="t"
        )
        docs = [
            invoice_document(invoice, rt.settings.vendor),
            credit_note_document(note, rt.settings.vendor),
        ]
    nbsp = "\u00a0"
    for doc in docs:
        html = render_html(doc)
        assert f"RCS{nbsp}Paris{nbsp}732{nbsp}829{nbsp}320" in html
        assert f"SIREN&nbsp;: 732{nbsp}829{nbsp}320" in html  # the seller
        assert f"SIREN&nbsp;: 552{nbsp}100{nbsp}554" in html  # the client
        assert "732 829" not in html and ": 552100554" not in html
        seller = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/"
        root = etree.fromstring(cii_xml(doc))
        path = seller + "ram:SellerTradeParty/ram:SpecifiedLegalOrganization/ram:ID"
        assert _xml_value(root, path) == "732829320"
