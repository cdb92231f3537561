"""The invoice (or credit note) document: what it shows, as one typed ``InvoiceDocument``
built from the database rows. The PDF (``renderer.py``) and the Factur-X XML (``cii.py``)
are both made from it: they and the database therefore carry the same totals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from app.clients.models import Client
from app.invoices.models import CreditNote, Invoice, LateInterestRule
from app.pricing.lines import line_input
from app.pricing.totals import VatLine, compute_totals
from app.rendering.contract_document import PricedLineView
from app.rendering.french import format_amount, grouped_siren, no_break
from app.vendor_settings import VendorIdentity

OPERATION_CATEGORY = "Prestations de services"
NO_DISCOUNT = "Pas d'escompte pour paiement anticipé."
VAT_ON_DEBITS = "Option pour le paiement de la taxe d'après les débits."
_POSTCODE_CITY = re.compile(r"(?P<code>\d{4,5})\s+(?P<city>.+)")


@dataclass(frozen=True)
class PartyView:
    legal_name: str
    siren: str  # compact: the XML's legal registration identifier (BT-30, BT-47)
    vat_number: str | None
    street: str
    postal_code: str
    city: str
    country: str = "FR"

    @property
    def address_lines(self) -> tuple[str, str]:
        return self.street, f"{self.postal_code} {self.city}"

    @property
    def siren_printed(self) -> str:
        """The SIREN grouped by three (a French party), or the foreign registration number,
        on one line."""
        return grouped_siren(self.siren) if self.country == "FR" else no_break(self.siren)

    @property
    def vat_number_printed(self) -> str:
        return no_break(self.vat_number or "")


@dataclass(frozen=True)
class LineView(PricedLineView):
    """An invoice's or credit note's line; a negative total is a discount line."""

    @property
    def is_discount(self) -> bool:
        return self.total_excl_vat < 0


# A VAT rate's base and amount, as app.pricing.totals breaks the totals down: the document
# shows that breakdown as computed, so it keeps the one type.
VatView = VatLine


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
    credited_invoice: str | None = None  # a credit note: the number of the invoice it credits
    credited_invoice_issued_on: date | None = None
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
    def settlement_text(self) -> str:
        """A credit note's settlement, instead of an invoice's payment terms: nothing is paid
        to the seller, the amount is set against the invoice it credits."""
        return f"Avoir à imputer sur la facture {self.credited_invoice}."

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
    """The legal form, share capital and RCS registration (C. com. R123-237), the RCS
    registration on one line (``VendorIdentity.rcs``: no-break spaces, like the amount's)."""
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
    inputs = [line_input(r) for r in rows]
    totals = compute_totals(inputs)
    lines = tuple(
        LineView(r.position, r.designation, r.quantity, r.unit_price, r.vat_rate, r.total_excl_vat)
        for r in rows
    )
    return lines, totals.vat_breakdown


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


def _document(
    issued: Invoice | CreditNote,
    invoice: Invoice,
    vendor: VendorIdentity,
    *,
    due_on: date | None,
    contract_number: str | None = None,
    period: str | None = None,
    notes: tuple[str, ...] = (),
    reason: str | None = None,
) -> InvoiceDocument:
    """An invoice and a credit note show the same things: their own number, lines and
    totals; the invoice's client, payment and late-payment terms (a credit note follows the
    invoice it credits). What differs is passed by the two builders below."""
    lines, vat = _views(issued.lines)
    credit_note = isinstance(issued, CreditNote)
    return InvoiceDocument(
        credit_note=credit_note,
        number=issued.number,
        issued_on=issued.issued_on,
        due_on=due_on,
        seller=seller_of(vendor),
        buyer=buyer_of(invoice.client),
        lines=lines,
        vat_breakdown=vat,
        total_excl_vat=issued.total_excl_vat,
        total_vat=issued.total_vat,
        total_incl_vat=issued.total_incl_vat,
        payment_terms_days=invoice.payment_terms_days,
        payment_method=invoice.payment_method,
        late_interest_text=late_interest_text(invoice.late_interest_rule, invoice.penalty_source),
        recovery_indemnity=invoice.recovery_indemnity,
        contract_number=contract_number,
        period=period,
        credited_invoice=invoice.number if credit_note else None,
        credited_invoice_issued_on=invoice.issued_on if credit_note else None,
        reason=reason,
        notes=notes,
        reverse_charge=invoice.reverse_charge,
        **seller_terms(vendor),
    )


def invoice_document(
    invoice: Invoice, vendor: VendorIdentity, contract_number: str | None = None
) -> InvoiceDocument:
    return _document(
        invoice,
        invoice,
        vendor,
        due_on=invoice.due_on,
        contract_number=contract_number,
        period=invoice.period,
        notes=tuple(n for n in invoice.notes.splitlines() if n.strip()),
    )


def credit_note_document(note: CreditNote, vendor: VendorIdentity) -> InvoiceDocument:
    return _document(note, note.invoice, vendor, due_on=None, reason=note.reason)
