"""Invoices apply what was signed and say who issues them:

- the late-penalty rule and the recovery indemnity come from the signed contract (the CGV
  version it was signed under, or a particular term that overrides it), are shown on the
  plan page with where they come from, and are printed on the invoice and in its Factur-X;
- the vendor's legal form, share capital and RCS registration are printed (C. com.
  R123-237) and are BT-33 of the XML;
- an EU business client outside France is invoiced under the reverse charge (category AE),
  its credit notes too; every XML passes the XSD and the EN 16931 Schematron.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from html import unescape

import pytest
from facturx import get_facturx_xml_from_pdf, xml_check_xsd
from flask import Flask
from lxml import etree
from pypdf import PdfReader

from app.auth.models import Role
from app.contracts.queries import get_contract
from app.db import transaction
from app.invoices import issuing, pdfs, plans
from app.invoices.cii import NS
from app.invoices.document import credit_note_document
from app.invoices.errors import InvoiceInvalid
from app.invoices.models import BillingFrequency, Invoice, LateInterestRule
from app.invoices.renderer import render_invoice_pdf
from app.pricing.lines import LineInput
from tests import en16931
from tests.factories import (
    issue_to,
    login_as,
    make_client,
    plan_of,
    publish_cgv,
    runtime,
    signed_contract,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
D = Decimal

CGV_ECB = (
    "# Conditions générales de vente\n\n"
    "## Article 1. Objet\n\nLes présentes conditions régissent l'abonnement au service.\n\n"
    "## Article 9. Retard de paiement\n\n"
    "Tout retard de paiement donne lieu, sans rappel, à des pénalités calculées au taux "
    "appliqué par la Banque centrale européenne à son opération de refinancement la plus "
    "récente, majoré de dix (10) points de pourcentage, qui ne peut être inférieur à trois "
    "fois le taux d'intérêt légal, ainsi qu'à une indemnité forfaitaire pour frais de "
    "recouvrement de quarante (40) euros.\n"
)
CGV_THREE_TIMES = (
    "# Conditions générales de vente\n\n"
    "## Article 1. Objet\n\nLes présentes conditions régissent l'abonnement au service.\n\n"
    "## Article 7. Prix et paiement\n\n### 7.3. Pénalités\n\n"
    "Les sommes non payées à l'échéance portent intérêt à trois fois le taux d'intérêt "
    "légal.\n"
)
ECB_LABEL = "majoré de 10 points de pourcentage"
THREE_TIMES_LABEL = "trois fois le taux d'intérêt légal"
SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"


def _flat(pdf: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", " ", re.sub(r"[\u00a0\u202f]", " ", text))


def _checked_xml(pdf: bytes) -> etree._Element:
    """The embedded Factur-X XML, after the XSD and the EN 16931 Schematron."""
    _name, xml = get_facturx_xml_from_pdf(pdf, check_xsd=False)
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    report = en16931.check(xml)
    assert report.fired_rules > 50
    assert not report.rules_broken, report.violations
    root: etree._Element = etree.fromstring(xml)
    return root


def _notes(root: etree._Element) -> dict[str, str]:
    return {
        str(note.findtext("ram:SubjectCode", namespaces=NS)): str(
            note.findtext("ram:Content", namespaces=NS)
        )
        for note in root.iterfind("rsm:ExchangedDocument/ram:IncludedNote", NS)
    }


def _signed_contract(app: Flask, cgv: str, label: str, particular_terms: str = "") -> int:
    publish_cgv(app, cgv, label=label, effective="2024-01-01")
    return signed_contract(app, publish=False, particular_terms=particular_terms)


def _plan_and_invoice(app: Flask, contract_id: int) -> tuple[int, bytes]:
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        plan = plan_of(session, contract_id, start_date=date(2026, 12, 1), now=NOW)
        invoice = issuing.issue_period_invoice(
            session, plan=plan, period="2026-12", now=NOW, actor="test"
        )
        assert invoice is not None
        plan_id, invoice_id = plan.id, invoice.id
    with transaction(rt.session_factory) as session:
        invoice = issuing.get_invoice(session, invoice_id)
        pdf = render_invoice_pdf(pdfs.invoice_document(session, invoice, rt.settings.vendor))
    return plan_id, pdf


@pytest.mark.parametrize(
    ("cgv", "label", "rule", "printed", "source"),
    [
        (
            CGV_ECB,
            "4.1",
            LateInterestRule.ECB_PLUS_10,
            ECB_LABEL,
            "CGV version 4.1, article 9 (Retard de paiement)",
        ),
        (
            CGV_THREE_TIMES,
            "4.2",
            LateInterestRule.THREE_TIMES_LEGAL,
            THREE_TIMES_LABEL,
            "CGV version 4.2, article 7.3 (Pénalités)",
        ),
    ],
    ids=["ecb-plus-10", "three-times-legal"],
)
def test_the_invoice_applies_the_penalty_rule_of_the_signed_cgv(
    app: Flask, cgv: str, label: str, rule: LateInterestRule, printed: str, source: str
) -> None:
    contract_id = _signed_contract(app, cgv, label)
    plan_id, pdf = _plan_and_invoice(app, contract_id)

    page = login_as(app, Role.ADMIN).get(f"/factures/plans/{plan_id}")
    assert page.status_code == 200
    shown = re.sub(r"[\s\u00a0\u202f]+", " ", unescape(page.get_data(as_text=True)))
    assert f"Pénalités de retard (exigibles sans rappel) : {rule.label}" in shown
    assert f"Source : {source}" in shown
    assert "frais de recouvrement : 40,00 € par facture impayée" in shown

    text = _flat(pdf)
    assert f"Taux des pénalités de retard (exigibles sans rappel) : {rule.label} ({source})." in (
        text
    )
    other = THREE_TIMES_LABEL if rule is LateInterestRule.ECB_PLUS_10 else ECB_LABEL
    assert other not in text
    assert "frais de recouvrement en cas de retard de paiement : 40,00 €" in text

    root = _checked_xml(pdf)
    notes = _notes(root)
    assert rule.label in notes["PMD"] and source in notes["PMD"]
    assert "40,00" in notes["PMT"]
    terms = root.findtext(
        SETTLEMENT + "ram:SpecifiedTradePaymentTerms/ram:Description", namespaces=NS
    )
    assert terms is not None and rule.label in terms and source in terms


def test_a_particular_term_overrides_the_cgv_penalty_rule(app: Flask) -> None:
    contract_id = _signed_contract(
        app,
        CGV_THREE_TIMES,
        "4.3",
        particular_terms=(
            "Par dérogation à l'article 7.3 des CGV, les pénalités de retard sont calculées au "
            "taux de la BCE majoré de 10 points ; l'indemnité forfaitaire pour frais de "
            "recouvrement est fixée à 60 € par facture."
        ),
    )
    plan_id, pdf = _plan_and_invoice(app, contract_id)
    with runtime(app).session_factory() as session:
        plan = plans.get_plan(session, plan_id)
        assert plan.late_interest_rule is LateInterestRule.ECB_PLUS_10
        assert plan.recovery_indemnity == D("60.00")
        assert plan.penalty_source == "conditions particulières, « Conditions particulières »"
    text = _flat(pdf)
    assert "majoré de 10 points de pourcentage (conditions particulières" in text
    assert "frais de recouvrement en cas de retard de paiement : 60,00 €" in text
    assert "60,00" in _notes(_checked_xml(pdf))["PMT"]


def test_contradictory_particular_terms_block_the_plan(app: Flask) -> None:
    contract_id = _signed_contract(
        app,
        CGV_ECB,
        "4.4",
        particular_terms=(
            "Pénalités : trois fois le taux d'intérêt légal.\n\n"
            "Pénalités : taux de la BCE majoré de 10 points."
        ),
    )
    with pytest.raises(InvoiceInvalid) as info, transaction(runtime(app).session_factory) as s:
        plans.create_billing_plan(
            s,
            contract=get_contract(s, contract_id),
            frequency=BillingFrequency.MONTHLY,
            start_date=date(2026, 12, 1),
            now=NOW,
            actor="test",
        )
    assert "contradictoires" in info.value.errors["contract"]


def test_the_vendor_legal_identity_is_printed_and_in_the_xml(app: Flask) -> None:
    rt = runtime(app)
    client_id = make_client(app)
    with transaction(rt.session_factory) as session:
        invoice = issue_to(
            session,
            client_id,
            [LineInput("Journée de formation", D("1"), D("900.00"), D("20"))],
            now=NOW,
        )
        pdf = render_invoice_pdf(pdfs.invoice_document(session, invoice, rt.settings.vendor))
    mention = "SAS au capital de 10 000,00 € — RCS Paris 732 829 320"
    assert mention in _flat(pdf)
    root = _checked_xml(pdf)
    seller = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/"
    assert root.findtext(seller + "ram:SellerTradeParty/ram:Description", namespaces=NS) == (
        mention.replace("10 000", "10\u202f000")
        .replace(" €", "\u00a0€")
        .replace("RCS Paris 732 829 320", "RCS\u00a0Paris\u00a0732\u00a0829\u00a0320")
    )


def _eu_client(app: Flask) -> int:
    """A German company (no SIREN, its VAT number checked for Germany), created as the client
    form creates it."""
    return make_client(
        app,
        legal_name="Bäckerei Müller GmbH",
        siren="",
        vat_number="DE136695976",
        address="Hauptstraße 5",
        postal_code="10115",
        city="Berlin",
        country="DE",
        signer_name="Jana Müller",
        signer_email="jana@example.de",
    )


def _categories(root: etree._Element) -> set[str]:
    return {str(node.text) for node in root.iter(f"{{{NS['ram']}}}CategoryCode")}


def test_an_eu_business_client_is_invoiced_under_the_reverse_charge(app: Flask) -> None:
    rt = runtime(app)
    client_id = _eu_client(app)
    with transaction(rt.session_factory) as session:
        invoice = issue_to(
            session,
            client_id,
            [
                LineInput("Abonnement Premium", D("12"), D("100.00"), D("20")),
                LineInput("Remise de lancement", D("1"), D("-100.00"), D("20")),
                LineInput("Guide imprimé", D("1"), D("10.00"), D("5.5")),
            ],
            now=NOW,
        )
        invoice_id = invoice.id
        assert invoice.reverse_charge is True
        assert {line.vat_rate for line in invoice.lines} == {D("0")}
        assert (invoice.total_excl_vat, invoice.total_vat, invoice.total_incl_vat) == (
            D("1110.00"),
            D("0.00"),
            D("1110.00"),
        )
        pdf = render_invoice_pdf(pdfs.invoice_document(session, invoice, rt.settings.vendor))
    text = _flat(pdf)
    assert (
        "Autoliquidation : TVA due par le preneur (article 283-2 du CGI, article 196 de la "
        "directive 2006/112/CE)" in text
    )
    assert "N° TVA intracommunautaire : DE136695976" in text
    assert "Exonération" not in text  # not an exemption: the buyer pays the VAT
    root = _checked_xml(pdf)
    assert _categories(root) == {"AE"}
    buyer = (
        "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/ram:BuyerTradeParty/"
    )
    assert root.findtext(buyer + "ram:SpecifiedTaxRegistration/ram:ID", namespaces=NS) == (
        "DE136695976"
    )
    assert root.findtext(buyer + "ram:PostalTradeAddress/ram:CountryID", namespaces=NS) == "DE"
    tax = SETTLEMENT + "ram:ApplicableTradeTax/"
    assert root.findtext(tax + "ram:ExemptionReasonCode", namespaces=NS) == "VATEX-EU-AE"
    assert "Autoliquidation" in str(root.findtext(tax + "ram:ExemptionReason", namespaces=NS))
    assert root.findtext(tax + "ram:CalculatedAmount", namespaces=NS) == "0.00"
    page = login_as(app, Role.ADMIN).get(f"/factures/{invoice_id}").get_data(as_text=True)
    assert "Autoliquidation : facturée sans TVA française" in page

    with transaction(rt.session_factory) as session:
        original = issuing.get_invoice(session, invoice_id)
        partial = issuing.issue_credit_note(
            session,
            invoice=original,
            reason="Geste commercial",
            now=NOW,
            actor="test",
            lines=[LineInput("Geste commercial", D("1"), D("50.00"), D("20"))],
        )
        full = issuing.issue_credit_note(
            session,
            invoice=original,
            reason="Annulation du solde",
            now=NOW,
            actor="test",
            lines=[LineInput("Solde", D("1"), D("1060.00"), D("20"))],
        )
        assert (partial.total_vat, partial.total_incl_vat) == (D("0.00"), D("50.00"))
        notes = [
            render_invoice_pdf(credit_note_document(note, rt.settings.vendor))
            for note in (partial, full)
        ]
    for note_pdf in notes:
        assert "Autoliquidation" in _flat(note_pdf)
        assert _categories(_checked_xml(note_pdf)) == {"AE"}


def test_a_french_client_keeps_french_vat(app: Flask) -> None:
    """The reverse charge is for a client established in another member state only."""
    rt = runtime(app)
    client_id = make_client(app)
    with transaction(rt.session_factory) as session:
        invoice = issue_to(
            session, client_id, [LineInput("Abonnement", D("1"), D("100.00"), D("20"))], now=NOW
        )
        assert invoice.reverse_charge is False and invoice.total_vat == D("20.00")
    with runtime(app).session_factory() as session:
        stored = session.get(Invoice, invoice.id)
        assert stored is not None and stored.lines[0].vat_rate == D("20")
