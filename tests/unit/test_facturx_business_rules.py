"""Every kind of document Paraphe issues passes the official EN 16931 Schematron (the
rules e-invoicing platforms apply), not only the XSD; and the rules do catch a broken one."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from app.invoices.cii import NS, cii_xml
from app.invoices.document import InvoiceDocument, LineView, PartyView, VatView
from app.invoices.renderer import EN16931_XSD
from tests import en16931

SELLER = PartyView(
    "Éditeur Démo SAS", "732829320", "FR44732829320", "12 rue de la Paix", "75002", "Paris"
)
BUYER = PartyView(
    "Boulangerie Lefèvre & Fils", "552100554", None, "3 place de la Bourse", "69002", "Lyon"
)
IBAN = "FR7630006000011234567890189"
SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"


def _invoice(**changes: Any) -> InvoiceDocument:
    """20 % lines with a discount, a 5.5 % line and an exempt line, payable by transfer."""
    doc = InvoiceDocument(
        credit_note=False,
        number="FAC-2026-000042",
        issued_on=date(2026, 12, 1),
        due_on=date(2026, 12, 31),
        seller=SELLER,
        buyer=BUYER,
        lines=(
            LineView(
                1,
                "Abonnement Premium",
                Decimal("12"),
                Decimal("100.00"),
                Decimal("20"),
                Decimal("1200.00"),
            ),
            LineView(
                2,
                "Remise de lancement",
                Decimal("1"),
                Decimal("-100.00"),
                Decimal("20"),
                Decimal("-100.00"),
            ),
            LineView(
                3, "Guide imprimé", Decimal("1"), Decimal("10.00"), Decimal("5.5"), Decimal("10.00")
            ),
            LineView(
                4,
                "Formation financée",
                Decimal("1"),
                Decimal("300.00"),
                Decimal("0"),
                Decimal("300.00"),
            ),
        ),
        vat_breakdown=(
            VatView(Decimal("20"), Decimal("1100.00"), Decimal("220.00")),
            VatView(Decimal("5.5"), Decimal("10.00"), Decimal("0.55")),
            VatView(Decimal("0"), Decimal("300.00"), Decimal("0.00")),
        ),
        total_excl_vat=Decimal("1410.00"),
        total_vat=Decimal("220.55"),
        total_incl_vat=Decimal("1630.55"),
        payment_terms_days=30,
        payment_method="Virement bancaire",
        late_interest_text="Taux des pénalités de retard : trois fois le taux d'intérêt légal.",
        contract_number="CTR-2026-0007",
        period="2026-12",
        notes=("Révision Syntec appliquée : P = P0 × (S / S0).",),
        seller_iban=IBAN,
        seller_bic="AGRIFRPPXXX",
    )
    return replace(doc, **changes)


GERMAN_BUYER = PartyView(
    "Bäckerei Müller GmbH", "", "DE136695976", "Hauptstraße 5", "10115", "Berlin", "DE"
)


def _reverse_charged(**changes: Any) -> InvoiceDocument:
    """The same lines for a German business client: every line at 0 %, category AE."""
    lines = tuple(replace(line, vat_rate=Decimal("0")) for line in _invoice().lines)
    changes.setdefault("buyer", GERMAN_BUYER)
    return _invoice(
        lines=lines,
        vat_breakdown=(VatView(Decimal("0"), Decimal("1410.00"), Decimal("0.00")),),
        total_vat=Decimal("0.00"),
        total_incl_vat=Decimal("1410.00"),
        reverse_charge=True,
        **changes,
    )


CREDITED_ON = _invoice().issued_on - timedelta(days=20)
"""The credited invoice's issue date: some days before the credit note's."""

DOCUMENTS = {
    "transfer": _invoice(),
    "transfer without BIC": _invoice(seller_bic=None),
    "direct debit": _invoice(payment_method="Prélèvement SEPA"),
    "card": _invoice(payment_method="Carte bancaire"),
    "VAT on debits": _invoice(vat_on_debits=True),
    "buyer with VAT number": _invoice(buyer=replace(BUYER, vat_number="FR96552100554")),
    "seller legal information": _invoice(
        seller_legal_info="SAS au capital de 10 000,00 € — RCS Paris 732 829 320"
    ),
    "reverse charge": _reverse_charged(),
    "reverse charge credit note": _reverse_charged(
        credit_note=True,
        number="AV-2026-000004",
        due_on=None,
        credited_invoice="FAC-2026-000043",
        credited_invoice_issued_on=CREDITED_ON,
    ),
    "credit note": _invoice(
        credit_note=True,
        number="AV-2026-000003",
        due_on=None,
        credited_invoice="FAC-2026-000042",
        credited_invoice_issued_on=CREDITED_ON,
        reason="Annulation de la ligne 4",
        notes=(),
    ),
}


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(file=str(EN16931_XSD))


@pytest.mark.parametrize("name", DOCUMENTS)
def test_document_passes_the_xsd_and_the_en16931_rules(name: str, schema: etree.XMLSchema) -> None:
    xml = cii_xml(DOCUMENTS[name])
    schema.assertValid(etree.fromstring(xml))
    report = en16931.check(xml)
    assert report.fired_rules > 50  # the rules did run on this document
    assert not report.rules_broken, report.violations


def test_the_rules_catch_a_transfer_without_an_account() -> None:
    """The check can fail: without the seller's IBAN a transfer breaks BR-61 (CII-SR-470)."""
    report = en16931.check(cii_xml(_invoice(seller_iban=None)))
    assert "CII-SR-470" in report.rules_broken


def test_the_rules_catch_totals_that_do_not_add_up() -> None:
    report = en16931.check(cii_xml(_invoice(total_incl_vat=Decimal("1630.56"))))
    assert report.rules_broken == {"BR-CO-15"}  # grand total = total excl. VAT + VAT


def test_transfer_names_the_account_and_the_payment_reference() -> None:
    root = etree.fromstring(cii_xml(_invoice()))
    means = SETTLEMENT + "ram:SpecifiedTradeSettlementPaymentMeans/"
    assert root.findtext(means + "ram:TypeCode", namespaces=NS) == "30"
    assert (
        root.findtext(means + "ram:PayeePartyCreditorFinancialAccount/ram:IBANID", namespaces=NS)
        == IBAN
    )
    assert (
        root.findtext(
            means + "ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID", namespaces=NS
        )
        == "AGRIFRPPXXX"
    )
    assert root.findtext(SETTLEMENT + "ram:PaymentReference", namespaces=NS) == "FAC-2026-000042"


def test_vat_on_debits_is_bt8_code_5_and_a_note() -> None:
    root = etree.fromstring(cii_xml(_invoice(vat_on_debits=True)))
    codes = {
        tax.findtext("ram:RateApplicablePercent", namespaces=NS): tax.findtext(
            "ram:DueDateTypeCode", namespaces=NS
        )
        for tax in root.iterfind(SETTLEMENT + "ram:ApplicableTradeTax", NS)
    }
    assert codes == {"20": "5", "5.5": "5", "0": None}  # no VAT is due on the exempt base
    notes = {
        note.findtext("ram:SubjectCode", namespaces=NS): note.findtext("ram:Content", namespaces=NS)
        for note in root.iterfind("rsm:ExchangedDocument/ram:IncludedNote", NS)
    }
    assert notes["TXD"] == "Option pour le paiement de la taxe d'après les débits."
    plain = etree.fromstring(cii_xml(_invoice()))
    assert plain.find(SETTLEMENT + "ram:ApplicableTradeTax/ram:DueDateTypeCode", NS) is None


def test_credit_note_carries_no_payment_instruction() -> None:
    root = etree.fromstring(cii_xml(DOCUMENTS["credit note"]))
    assert root.find(SETTLEMENT + "ram:SpecifiedTradeSettlementPaymentMeans", NS) is None
    assert root.find(SETTLEMENT + "ram:PaymentReference", NS) is None
    assert root.findtext("rsm:ExchangedDocument/ram:TypeCode", namespaces=NS) == "381"


def test_credit_note_references_the_credited_invoice_and_its_date() -> None:
    """BT-25 and BT-26 (BG-3): the number of the credited invoice and its issue date."""
    root = etree.fromstring(cii_xml(DOCUMENTS["credit note"]))
    referenced = SETTLEMENT + "ram:InvoiceReferencedDocument/"
    assert root.findtext(referenced + "ram:IssuerAssignedID", namespaces=NS) == "FAC-2026-000042"
    issued = root.find(referenced + "ram:FormattedIssueDateTime/qdt:DateTimeString", NS)
    assert issued is not None
    assert issued.get("format") == "102"
    assert issued.text == CREDITED_ON.strftime("%Y%m%d")


def test_exempt_base_names_its_legal_basis() -> None:
    reason = "Exonération de TVA, article 261-4-4° a du CGI"
    root = etree.fromstring(cii_xml(_invoice(vat_exemption_reason=reason)))
    reasons = {
        tax.findtext("ram:CategoryCode", namespaces=NS): tax.findtext(
            "ram:ExemptionReason", namespaces=NS
        )
        for tax in root.iterfind(SETTLEMENT + "ram:ApplicableTradeTax", NS)
    }
    assert reasons == {"S": None, "E": reason}


def test_the_rules_catch_a_reverse_charge_without_the_buyer_vat_number() -> None:
    """BR-AE-2/CII: an AE invoice names the buyer's VAT number; the check can fail."""
    doc = _reverse_charged(
        buyer=PartyView("Bäckerei Müller GmbH", "", None, "Hauptstraße 5", "10115", "Berlin", "DE")
    )
    assert {"BR-AE-02"} <= en16931.check(cii_xml(doc)).rules_broken
