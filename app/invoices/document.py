"""The invoice (or credit note) document: typed context → sandboxed HTML → PDF/A-3b →
Factur-X (CII XML, profile EN 16931, embedded with the ``factur-x`` package).

Everything printed and everything in the XML come from one ``InvoiceDocument``, built from
the database rows: the PDF, the XML and the database therefore carry the same totals.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import facturx
from facturx import generate_from_binary
from facturx.facturx import FACTURX_LEVEL2xsd
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from app.clients.models import Client
from app.config import VendorIdentity
from app.invoices.models import CreditNote, Invoice, LateInterestRule
from app.pricing.lines import LineInput
from app.pricing.totals import compute_totals
from app.rendering.errors import RenderingError
from app.rendering.french import format_amount
from app.rendering.jinja import (
    CONTRACT_TEMPLATES_DIR,
    INVOICE_TEMPLATES_DIR,
    make_environment,
    render_template,
)
from app.rendering.pdf import ASSETS_BASE_URL, AssetFetcher, render_pdf

INVOICE_TEMPLATE = "invoice.html"
PDF_VARIANT = "pdf/a-3b"
EN16931_XSD = Path(facturx.__file__).parent / "xsd_and_schematron" / FACTURX_LEVEL2xsd["en16931"]
ASSETS_DIR = CONTRACT_TEMPLATES_DIR / "assets"  # the bundled fonts, shared with contracts
OPERATION_CATEGORY = "Prestations de services"
NO_DISCOUNT = "Pas d'escompte pour paiement anticipé."
VAT_ON_DEBITS = "Option pour le paiement de la taxe d'après les débits."
PAYMENT_MEANS_CODES = {"Virement bancaire": "30", "Prélèvement SEPA": "59", "Carte bancaire": "48"}
_POSTCODE_CITY = re.compile(r"(?P<code>\d{4,5})\s+(?P<city>.+)")


@dataclass(frozen=True)
class PartyView:
    legal_name: str
    siren: str
    vat_number: str | None
    street: str
    postal_code: str
    city: str
    country: str = "FR"

    @property
    def address_lines(self) -> tuple[str, str]:
        return self.street, f"{self.postal_code} {self.city}"


@dataclass(frozen=True)
class LineView:
    position: int
    designation: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal
    total_excl_vat: Decimal

    @property
    def is_discount(self) -> bool:
        return self.total_excl_vat < 0


@dataclass(frozen=True)
class VatView:
    rate: Decimal
    base: Decimal
    vat: Decimal


@dataclass(frozen=True)
class InvoiceDocument:
    """What an invoice or a credit note shows, amounts already rounded."""

    credit_note: bool
    number: str
    issued_on: date
    due_on: date | None
    seller: PartyView
    buyer: PartyView
    lines: tuple[LineView, ...]
    vat_breakdown: tuple[VatView, ...]
    total_excl_vat: Decimal
    total_vat: Decimal
    total_incl_vat: Decimal
    payment_terms_days: int
    payment_method: str
    late_interest_text: str
    recovery_indemnity: Decimal = Decimal("40.00")  # the legal amount (D441-5) unless agreed
    contract_number: str | None = None
    period: str | None = None
    credited_invoice: str | None = None
    reason: str | None = None
    notes: tuple[str, ...] = field(default=())
    seller_iban: str | None = None  # compact; where an invoice is paid
    seller_bic: str | None = None
    vat_on_debits: bool = False
    vat_exemption_reason: str = VendorIdentity.vat_exemption_reason
    # « SAS au capital de 10 000,00 € — RCS Paris 732 829 320 » (C. com. R123-237; BT-33)
    seller_legal_info: str = ""
    # An EU business client outside France: VAT self-assessed by the buyer (category AE)
    reverse_charge: bool = False

    @property
    def title(self) -> str:
        return "Avoir" if self.credit_note else "Facture"

    @property
    def has_exempt_base(self) -> bool:
        return not self.reverse_charge and any(v.rate == 0 for v in self.vat_breakdown)

    @property
    def seller_iban_display(self) -> str:
        """The IBAN in groups of four, as banks print it."""
        iban = self.seller_iban or ""
        return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))

    @property
    def gross_lines_total(self) -> Decimal:
        return sum((x.total_excl_vat for x in self.lines if not x.is_discount), Decimal("0.00"))

    @property
    def discounts_total(self) -> Decimal:
        return -sum((x.total_excl_vat for x in self.lines if x.is_discount), Decimal("0.00"))


def split_address(address: str) -> tuple[str, str, str]:
    """``"12 rue de la Paix, 75002 Paris"`` → street, postal code, city."""
    street, _, tail = address.rpartition(",")
    match = _POSTCODE_CITY.fullmatch(tail.strip())
    if not street or match is None:
        return address, "", ""
    return street.strip(), match.group("code"), match.group("city").strip()


REVERSE_CHARGE_MENTION = (
    "Autoliquidation : TVA due par le preneur (article 283-2 du CGI, "
    "article 196 de la directive 2006/112/CE)"
)
REVERSE_CHARGE_REASON_CODE = "VATEX-EU-AE"  # BT-121, CEF VATEX code list


def seller_legal_info(vendor: VendorIdentity) -> str:
    """The legal form, share capital and RCS registration (C. com. R123-237)."""
    capital = format_amount(vendor.share_capital)
    return f"{vendor.legal_form} au capital de {capital} — {vendor.rcs}"


def seller_terms(vendor: VendorIdentity) -> dict[str, Any]:
    """What the seller's settings add to every document: its bank account, its VAT option,
    its legal identity."""
    return {
        "seller_iban": vendor.iban,
        "seller_bic": vendor.bic,
        "vat_on_debits": vendor.vat_on_debits,
        "vat_exemption_reason": vendor.vat_exemption_reason,
        "seller_legal_info": seller_legal_info(vendor),
    }


def seller_of(vendor: VendorIdentity) -> PartyView:
    street, code, city = split_address(vendor.address)
    return PartyView(vendor.legal_name, vendor.siren, vendor.vat_number, street, code, city)


def buyer_of(client: Client) -> PartyView:
    return PartyView(
        client.legal_name,
        client.siren,
        client.vat_number,
        client.address,
        client.postal_code,
        client.city,
        client.country,
    )


def _views(rows: Any) -> tuple[tuple[LineView, ...], tuple[VatView, ...]]:
    inputs = [LineInput(r.designation, r.quantity, r.unit_price, r.vat_rate) for r in rows]
    totals = compute_totals(inputs)
    lines = tuple(
        LineView(r.position, r.designation, r.quantity, r.unit_price, r.vat_rate, r.total_excl_vat)
        for r in rows
    )
    vat = tuple(VatView(v.rate, v.base, v.vat) for v in totals.vat_breakdown)
    return lines, vat


def late_interest_text(rule: LateInterestRule, source: str) -> str:
    """The rate as the signed contract states it, and where (« CGV version 2.2, article
    « 7.3 » », « conditions particulières, … »)."""
    where = f" ({source})" if source else ""
    return f"Taux des pénalités de retard (exigibles sans rappel) : {rule.label}{where}."


def indemnity_text(amount: Decimal) -> str:
    return (
        "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement\u00a0: "
        f"{format_amount(amount)} (articles L441-10 et D441-5 du Code de commerce)."
    )


def invoice_document(
    invoice: Invoice, vendor: VendorIdentity, contract_number: str | None = None
) -> InvoiceDocument:
    lines, vat = _views(invoice.lines)
    return InvoiceDocument(
        credit_note=False,
        number=invoice.number,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        seller=seller_of(vendor),
        buyer=buyer_of(invoice.client),
        lines=lines,
        vat_breakdown=vat,
        total_excl_vat=invoice.total_excl_vat,
        total_vat=invoice.total_vat,
        total_incl_vat=invoice.total_incl_vat,
        payment_terms_days=invoice.payment_terms_days,
        payment_method=invoice.payment_method,
        late_interest_text=late_interest_text(invoice.late_interest_rule, invoice.penalty_source),
        recovery_indemnity=invoice.recovery_indemnity,
        contract_number=contract_number,
        period=invoice.period,
        notes=tuple(n for n in invoice.notes.splitlines() if n.strip()),
        reverse_charge=invoice.reverse_charge,
        **seller_terms(vendor),
    )


def credit_note_document(note: CreditNote, vendor: VendorIdentity) -> InvoiceDocument:
    invoice = note.invoice
    lines, vat = _views(note.lines)
    return InvoiceDocument(
        credit_note=True,
        number=note.number,
        issued_on=note.issued_on,
        due_on=None,
        seller=seller_of(vendor),
        buyer=buyer_of(invoice.client),
        lines=lines,
        vat_breakdown=vat,
        total_excl_vat=note.total_excl_vat,
        total_vat=note.total_vat,
        total_incl_vat=note.total_incl_vat,
        payment_terms_days=invoice.payment_terms_days,
        payment_method=invoice.payment_method,
        late_interest_text=late_interest_text(invoice.late_interest_rule, invoice.penalty_source),
        recovery_indemnity=invoice.recovery_indemnity,
        credited_invoice=invoice.number,
        reason=note.reason,
        reverse_charge=invoice.reverse_charge,
        **seller_terms(vendor),
    )


# --- HTML and PDF ----------------------------------------------------------------------


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    return make_environment()


def render_html(
    doc: InvoiceDocument, env: SandboxedEnvironment | None = None, *, inline_css: bool = True
) -> str:
    """The document's HTML; ``inline_css=False`` leaves the stylesheet out, for a renderer
    that applies the same stylesheet compiled once (``InvoiceRenderer``)."""
    created = datetime(doc.issued_on.year, doc.issued_on.month, doc.issued_on.day, tzinfo=UTC)
    return render_template(
        env or _environment(),
        INVOICE_TEMPLATE,
        {
            "doc": doc,
            "inline_css": inline_css,
            "created_w3c": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "indemnity_text": indemnity_text(doc.recovery_indemnity),
            "category": OPERATION_CATEGORY,
            "no_discount": NO_DISCOUNT,
            "vat_on_debits": VAT_ON_DEBITS,
            "reverse_charge_mention": REVERSE_CHARGE_MENTION,
        },
    )


def render_invoice_pdf_naive(doc: InvoiceDocument) -> bytes:
    """Everything from scratch: full HTML with its stylesheet and fonts parsed at every call,
    XSD loaded at every call. The reference the benchmark compares against."""
    pdf = render_pdf(render_html(doc), base_url=ASSETS_BASE_URL, assets_dir=ASSETS_DIR)
    return embed_facturx(pdf, doc)


def embed_facturx(pdf: bytes, doc: InvoiceDocument, *, check_xsd: bool = True) -> bytes:
    xml = cii_xml(doc)
    result: bytes = generate_from_binary(
        pdf,
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=check_xsd,
        pdf_metadata={
            "author": doc.seller.legal_name,
            "keywords": "Factur-X, facture",
            "title": f"{doc.title} {doc.number}",
            "subject": f"{doc.title} {doc.number} — {doc.buyer.legal_name}",
        },
        lang="fr-FR",
    )
    return result


class InvoiceRenderer:
    """Rendering state kept across invoices: the sandboxed environment, the stylesheet
    compiled once with its fonts loaded once (one WeasyPrint ``FontConfiguration``), the
    asset-only fetcher and the EN 16931 XML schema parsed once. Same template, same CSS,
    same XML, same checks as ``render_invoice_pdf_naive``; one per thread (WeasyPrint's
    font configuration is not shared between threads)."""

    def __init__(self) -> None:
        self.env = make_environment()
        self.fetcher = AssetFetcher(ASSETS_BASE_URL, ASSETS_DIR)
        self.font_config = FontConfiguration()
        self.css = CSS(
            string=(INVOICE_TEMPLATES_DIR / "invoice.css").read_text(encoding="utf-8"),
            base_url=ASSETS_BASE_URL,
            url_fetcher=self.fetcher,
            font_config=self.font_config,
        )
        self.schema = etree.XMLSchema(file=str(EN16931_XSD))

    def render(self, doc: InvoiceDocument) -> bytes:
        html = render_html(doc, self.env, inline_css=False)
        try:
            document = HTML(string=html, base_url=ASSETS_BASE_URL, url_fetcher=self.fetcher).render(
                stylesheets=[self.css], font_config=self.font_config, pdf_variant=PDF_VARIANT
            )
            pdf = document.write_pdf(pdf_variant=PDF_VARIANT)
        except Exception as exc:
            raise RenderingError(f"échec du rendu PDF : {type(exc).__name__}: {exc}") from exc
        if self.fetcher.refusals:
            raise self.fetcher.refusals[0]
        xml = cii_xml(doc)
        self.schema.assertValid(etree.fromstring(xml))  # the official XSD, as check_xsd does
        return embed_facturx(pdf, doc, check_xsd=False)


_local = threading.local()


def renderer() -> InvoiceRenderer:
    """This thread's renderer (built on first use)."""
    found: InvoiceRenderer | None = getattr(_local, "renderer", None)
    if found is None:
        found = _local.renderer = InvoiceRenderer()
    return found


def render_invoice_pdf(doc: InvoiceDocument) -> bytes:
    """The Factur-X PDF/A-3b of ``doc``, through this thread's ``InvoiceRenderer``."""
    return renderer().render(doc)


# --- Factur-X CII (EN 16931) -------------------------------------------------------------

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
    for subject, content in (
        ("PMD", doc.late_interest_text),
        ("PMT", indemnity_text(doc.recovery_indemnity)),
        ("AAB", NO_DISCOUNT),
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
    _sub(  # BT-20: the payment terms, late-payment terms included
        terms,
        "ram:Description",
        f"Paiement à {doc.payment_terms_days} jours ({doc.payment_method}). "
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
        _sub(referenced, "ram:IssuerAssignedID", doc.credited_invoice)
    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return xml
