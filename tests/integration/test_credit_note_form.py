"""Credit notes from the invoice page: a cancellation or one credited amount, numbered AV-,
rendered as a Factur-X avoir (type 381) referencing the invoice, archived; bad input gives
field errors and takes no number; only roles that issue invoices may issue avoirs."""

from __future__ import annotations

import io
from decimal import Decimal

from facturx import get_xml_from_pdf
from flask import Flask
from lxml import etree

from app.auth.models import Role
from app.documents.models import Document, DocumentKind
from app.invoices.models import CreditNote
from tests.factories import count, login_as, make_client, make_invoice, runtime
from tests.integration.credit_note_page import submit_credit_note

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"


def _xml(pdf: bytes) -> etree._Element:
    _name, xml = get_xml_from_pdf(io.BytesIO(pdf), check_xsd=True)
    return etree.fromstring(xml)


def test_a_cancellation_credits_the_whole_invoice_as_a_factur_x_avoir(app: Flask) -> None:
    invoice_id = make_invoice(app, make_client(app))  # 900 € HT at 20 %: 1 080 € TTC
    browser = login_as(app, Role.SALES)

    response = submit_credit_note(
        browser,
        invoice_id,
        {"mode": "cancel", "reason": "Formation annulée par le client"},
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    page = browser.get(f"/factures/{invoice_id}").get_data(as_text=True)
    assert "Formation annulée par le client" in page
    with runtime(app).session_factory() as session:
        note = session.query(CreditNote).one()
        assert note.number.startswith("AV-") and note.total_incl_vat == Decimal("1080.00")
        invoice_number = note.invoice.number
    assert note.number in page
    pdf = browser.get(f"/factures/avoirs/{note.id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    xml = _xml(pdf.data)
    ns = {"rsm": RSM, "ram": RAM}
    assert xml.findtext(".//rsm:ExchangedDocument/ram:TypeCode", namespaces=ns) == "381"
    referenced = xml.findtext(
        ".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID", namespaces=ns
    )
    assert referenced == invoice_number
    assert count(app, Document, Document.kind == DocumentKind.CREDIT_NOTE) == 1


def test_a_partial_avoir_credits_one_amount_at_the_invoice_rate(app: Flask) -> None:
    invoice_id = make_invoice(app, make_client(app))
    browser = login_as(app, Role.SALES)

    response = submit_credit_note(
        browser,
        invoice_id,
        {
            "mode": "partial",
            "reason": "Geste commercial",
            "designation": "Remise sur la journée de formation",
            "amount": "150,00",
            "vat_rate": "20",
        },
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    with runtime(app).session_factory() as session:
        note = session.query(CreditNote).one()
        assert (note.total_excl_vat, note.total_vat, note.total_incl_vat) == (
            Decimal("150.00"),
            Decimal("30.00"),
            Decimal("180.00"),
        )
        assert [line.designation for line in note.lines] == ["Remise sur la journée de formation"]


def test_bad_input_gives_field_errors_and_takes_no_number(app: Flask) -> None:
    invoice_id = make_invoice(app, make_client(app))
    browser = login_as(app, Role.SALES)
    partial = {"mode": "partial", "reason": "Geste", "designation": "Remise", "vat_rate": "20"}

    cases = [
        ({"mode": "cancel", "reason": ""}, "reason-error"),
        ({**partial, "amount": "douze"}, "amount-error"),
        ({**partial, "amount": "-5"}, "amount-error"),
        ({**partial, "amount": "5000,00"}, "dépasse ce qui reste à créditer"),
        ({**partial, "amount": "10", "designation": "  "}, "designation-error"),
        ({**partial, "amount": "10", "vat_rate": "7"}, "vat_rate-error"),
        ({"mode": "refund-everything", "reason": "x"}, "mode-error"),
    ]
    for data, expected in cases:
        response = submit_credit_note(browser, invoice_id, data)
        assert response.status_code == 422, (data, response.status_code)
        assert expected in response.get_data(as_text=True), data
    assert count(app, CreditNote) == 0


def test_hostile_reason_is_inert_and_only_issuers_may_credit(app: Flask) -> None:
    invoice_id = make_invoice(app, make_client(app))
    hostile = "<script>alert(1)</script>{{ 7*7 }}"
    sales = login_as(app, Role.SALES)
    response = submit_credit_note(
        sales,
        invoice_id,
        {"mode": "cancel", "reason": hostile},
    )
    assert response.status_code == 302
    page = sales.get(f"/factures/{invoice_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*7 }}" in page

    for role in (Role.LEGAL, Role.ARCHIVIST):
        other = login_as(app, role)
        refused = other.post(f"/factures/{invoice_id}/avoir", data={"mode": "cancel"})
        assert refused.status_code in (400, 403)  # CSRF first, then the role: never issued
    assert count(app, CreditNote) == 1
