"""The Factur-X XML: UN/CEFACT Cross Industry Invoice, profile EN 16931, of one
``InvoiceDocument``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from lxml import etree

from app.invoices.document import (
    NO_DISCOUNT,
    OPERATION_CATEGORY,
    REVERSE_CHARGE_MENTION,
    REVERSE_CHARGE_REASON_CODE,
    VAT_ON_DEBITS,
    InvoiceDocument,
    PartyView,
    indemnity_text,
)

PAYMENT_MEANS_CODES = {"Virement bancaire": "30", "Prélèvement SEPA": "59", "Carte bancaire": "48"}

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
EN16931 = "urn:cen.eu:en16931:2017"


def _q(tag: str) -> str:
    prefix, _, local = tag.partition(":")
    return f"{{{NS[prefix]}}}{local}"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> Any:
    element = etree.SubElement(parent, _q(tag), attrs)
    if text is not None:
        element.text = text
    return element


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _date(parent: etree._Element, tag: str, value: date) -> None:
    holder = _sub(parent, tag)
    _sub(holder, "udt:DateTimeString", value.strftime("%Y%m%d"), format="102")


def _category(rate: Decimal, doc: InvoiceDocument) -> str:
    """UNTDID 5305: AE (reverse charge) on every line of a reverse-charged document, else S
    (standard) or E (exempt) by rate."""
    if doc.reverse_charge:
        return "AE"
    return "S" if rate > 0 else "E"


def _party(
    parent: etree._Element, tag: str, party: PartyView, legal_info: str | None = None
) -> None:
    node = _sub(parent, tag)
    _sub(node, "ram:Name", party.legal_name)
    if legal_info:
        _sub(node, "ram:Description", legal_info)  # BT-33, seller additional legal information
    if party.siren:
        legal = _sub(node, "ram:SpecifiedLegalOrganization")
        if party.country == "FR":
            _sub(legal, "ram:ID", party.siren, schemeID="0002")  # ISO 6523 0002: SIREN
        else:
            _sub(legal, "ram:ID", party.siren)
    address = _sub(node, "ram:PostalTradeAddress")
    if party.postal_code:
        _sub(address, "ram:PostcodeCode", party.postal_code)
    _sub(address, "ram:LineOne", party.street)
    if party.city:
        _sub(address, "ram:CityName", party.city)
    _sub(address, "ram:CountryID", party.country)
    if party.vat_number:
        tax = _sub(node, "ram:SpecifiedTaxRegistration")
        _sub(tax, "ram:ID", party.vat_number, schemeID="VA")


CREDIT_TRANSFER_CODES = {"30", "58"}


def _payment_means(settlement: etree._Element, doc: InvoiceDocument) -> None:
    """BG-16: how to pay. A transfer names the seller's account (BT-84, and BT-86 when the
    BIC is set), as EN 16931 rule BR-61 requires."""
    code = PAYMENT_MEANS_CODES.get(doc.payment_method, "1")
    means = _sub(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    _sub(means, "ram:TypeCode", code)
    if code in CREDIT_TRANSFER_CODES and doc.seller_iban:
        account = _sub(means, "ram:PayeePartyCreditorFinancialAccount")
        _sub(account, "ram:IBANID", doc.seller_iban)
        if doc.seller_bic:
            institution = _sub(means, "ram:PayeeSpecifiedCreditorFinancialInstitution")
            _sub(institution, "ram:BICID", doc.seller_bic)


def cii_xml(doc: InvoiceDocument) -> bytes:
    """The CII XML (EN 16931). Discount lines become document-level allowances (EN 16931
    forbids negative prices), so BT-106 is the sum of the positive lines and BT-107 of the
    discounts; VAT bases and totals are exactly the document's."""
    root = etree.Element(_q("rsm:CrossIndustryInvoice"), nsmap=NS)
    context = _sub(root, "rsm:ExchangedDocumentContext")
    _sub(_sub(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931)
    header = _sub(root, "rsm:ExchangedDocument")
    _sub(header, "ram:ID", doc.number)
    _sub(header, "ram:TypeCode", "381" if doc.credit_note else "380")
    _date(header, "ram:IssueDateTime", doc.issued_on)
    # An invoice's payment notes (penalties, indemnity, no discount); a credit note, which
    # asks for no payment, prints none of them and carries none.
    payment_notes = (
        ()
        if doc.credit_note
        else (
            ("PMD", doc.late_interest_text),
            ("PMT", indemnity_text(doc.recovery_indemnity)),
            ("AAB", NO_DISCOUNT),
        )
    )
    for subject, content in (
        *payment_notes,
        ("AAI", f"Catégorie de l'opération : {OPERATION_CATEGORY}."),
        *((("TXD", VAT_ON_DEBITS),) if doc.vat_on_debits else ()),
        *(("PRI", n) for n in doc.notes),
    ):
        note = _sub(header, "ram:IncludedNote")
        _sub(note, "ram:Content", content)
        _sub(note, "ram:SubjectCode", subject)

    transaction = _sub(root, "rsm:SupplyChainTradeTransaction")
    items = [line for line in doc.lines if not line.is_discount]
    for index, line in enumerate(items, start=1):
        item = _sub(transaction, "ram:IncludedSupplyChainTradeLineItem")
        _sub(_sub(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(index))
        _sub(_sub(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.designation)
        agreement = _sub(item, "ram:SpecifiedLineTradeAgreement")
        price = _sub(agreement, "ram:NetPriceProductTradePrice")
        _sub(price, "ram:ChargeAmount", f"{line.unit_price:f}")
        delivery = _sub(item, "ram:SpecifiedLineTradeDelivery")
        _sub(delivery, "ram:BilledQuantity", f"{line.quantity.normalize():f}", unitCode="C62")
        settlement = _sub(item, "ram:SpecifiedLineTradeSettlement")
        tax = _sub(settlement, "ram:ApplicableTradeTax")
        _sub(tax, "ram:TypeCode", "VAT")
        _sub(tax, "ram:CategoryCode", _category(line.vat_rate, doc))
        _sub(tax, "ram:RateApplicablePercent", f"{line.vat_rate.normalize():f}")
        summation = _sub(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _sub(summation, "ram:LineTotalAmount", _amount(line.total_excl_vat))

    agreement = _sub(transaction, "ram:ApplicableHeaderTradeAgreement")
    _party(agreement, "ram:SellerTradeParty", doc.seller, doc.seller_legal_info)
    _party(agreement, "ram:BuyerTradeParty", doc.buyer)
    if doc.contract_number:
        contract = _sub(agreement, "ram:ContractReferencedDocument")
        _sub(contract, "ram:IssuerAssignedID", doc.contract_number)
    _sub(transaction, "ram:ApplicableHeaderTradeDelivery")

    settlement = _sub(transaction, "ram:ApplicableHeaderTradeSettlement")
    if not doc.credit_note:
        _sub(settlement, "ram:PaymentReference", doc.number)  # BT-83: the transfer's label
    _sub(settlement, "ram:InvoiceCurrencyCode", "EUR")
    if not doc.credit_note:
        # A credit note carries no payment instruction: the refund is not paid to the seller.
        _payment_means(settlement, doc)
    for vat in doc.vat_breakdown:
        tax = _sub(settlement, "ram:ApplicableTradeTax")
        _sub(tax, "ram:CalculatedAmount", _amount(vat.vat))
        _sub(tax, "ram:TypeCode", "VAT")
        if doc.reverse_charge:
            _sub(tax, "ram:ExemptionReason", REVERSE_CHARGE_MENTION)  # BT-120
        elif vat.rate == 0:
            _sub(tax, "ram:ExemptionReason", doc.vat_exemption_reason)
        _sub(tax, "ram:BasisAmount", _amount(vat.base))
        _sub(tax, "ram:CategoryCode", _category(vat.rate, doc))
        if doc.reverse_charge:
            _sub(tax, "ram:ExemptionReasonCode", REVERSE_CHARGE_REASON_CODE)  # BT-121
        if doc.vat_on_debits and vat.rate != 0:
            # BT-8, UNTDID 2475 code 5: VAT due on the invoice date (the debits option).
            _sub(tax, "ram:DueDateTypeCode", "5")
        _sub(tax, "ram:RateApplicablePercent", f"{vat.rate.normalize():f}")
    for line in doc.lines:
        if not line.is_discount:
            continue
        allowance = _sub(settlement, "ram:SpecifiedTradeAllowanceCharge")
        _sub(_sub(allowance, "ram:ChargeIndicator"), "udt:Indicator", "false")
        _sub(allowance, "ram:ActualAmount", _amount(-line.total_excl_vat))
        _sub(allowance, "ram:Reason", line.designation)
        tax = _sub(allowance, "ram:CategoryTradeTax")
        _sub(tax, "ram:TypeCode", "VAT")
        _sub(tax, "ram:CategoryCode", _category(line.vat_rate, doc))
        _sub(tax, "ram:RateApplicablePercent", f"{line.vat_rate.normalize():f}")
    terms = _sub(settlement, "ram:SpecifiedTradePaymentTerms")
    _sub(  # BT-20: the payment terms, late-payment terms included; a credit note's settlement
        terms,
        "ram:Description",
        doc.settlement_text
        if doc.credit_note
        else f"Paiement à {doc.payment_terms_days} jours ({doc.payment_method}). "
        f"{doc.late_interest_text} {indemnity_text(doc.recovery_indemnity)}",
    )
    if doc.due_on is not None:
        _date(terms, "ram:DueDateDateTime", doc.due_on)
    totals = _sub(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _sub(totals, "ram:LineTotalAmount", _amount(doc.gross_lines_total))
    if doc.discounts_total:
        _sub(totals, "ram:AllowanceTotalAmount", _amount(doc.discounts_total))
    _sub(totals, "ram:TaxBasisTotalAmount", _amount(doc.total_excl_vat))
    _sub(totals, "ram:TaxTotalAmount", _amount(doc.total_vat), currencyID="EUR")
    _sub(totals, "ram:GrandTotalAmount", _amount(doc.total_incl_vat))
    _sub(totals, "ram:DuePayableAmount", _amount(doc.total_incl_vat))
    if doc.credited_invoice:
        referenced = _sub(settlement, "ram:InvoiceReferencedDocument")
        _sub(referenced, "ram:IssuerAssignedID", doc.credited_invoice)  # BT-25
        if doc.credited_invoice_issued_on is not None:  # BT-26: the credited invoice's date
            issued = _sub(referenced, "ram:FormattedIssueDateTime")
            _sub(
                issued,
                "qdt:DateTimeString",
                doc.credited_invoice_issued_on.strftime("%Y%m%d"),
                format="102",
            )
    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return xml
