"""What a contract version prints: the document built from the quote, the clauses and the
CGV version, the particular clauses with their placeholders filled, and the DOCX export."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from jinja2.sandbox import SandboxedEnvironment

from app.clauses.models import ClauseVersion
from app.clauses.services import render_body
from app.clients.models import Client
from app.contracts.errors import ContractInvalid
from app.contracts.models import ContractVersion
from app.messages import msg
from app.plaintext import control_character_problem
from app.pricing.discounts import DiscountKind
from app.printable import typed_text, unprintable_character_problem
from app.quotes.commercial_terms import describe_terms
from app.quotes.models import Quote
from app.quotes.services import terms_of, totals_of
from app.rendering import contract_document as document
from app.rendering.contract import template_environment
from app.rendering.docx import render_contract_docx
from app.rendering.french import format_amount, format_percent
from app.terms.models import CgvVersion
from app.vendor_settings import VendorIdentity

# The order of precedence is a setting of the contract template (vendors differ); this is the
# default, which follows Code civil art. 1119: particular terms prevail over general ones.


def discount_label(kind: DiscountKind, value: Decimal) -> str:
    if kind is DiscountKind.PERCENT:
        return format_percent(value)
    if kind is DiscountKind.AMOUNT:
        return format_amount(value)
    return ""


@dataclass(frozen=True)
class Countersigner:
    """The vendor's signer: a configured signatory, else the sales user generating the
    contract. Printed on the signature page and signs in the request after the client."""

    name: str
    email: str

    @classmethod
    def for_vendor(
        cls, vendor: VendorIdentity, author_name: str, author_email: str
    ) -> Countersigner:
        """The configured signatory of the vendor, else the author of the contract."""
        return cls(
            name=vendor.signer_name or author_name, email=vendor.signer_email or author_email
        )

    def title_at(self, vendor: VendorIdentity) -> str | None:
        """The capacity printed in the countersigner's signature box: the vendor's
        representative's (PARAPHE_VENDOR_REPRESENTATIVE_TITLE) when the countersigner is that
        representative; anyone else (a sales user) signs in no stated capacity, never a
        borrowed one."""
        return vendor.representative_title if self.name == vendor.representative else None


@dataclass(frozen=True)
class ClientSigner:
    """The client's signer printed on the signature page: named in the API's body, else the
    client record's as it is at generation. Stored on the version: the person invited to
    sign is the person printed, even if the client record is corrected before sending."""

    name: str
    email: str
    # The capacity in which they sign (« Présidente »); None: none given. A signer named in
    # an API body is another person than the record's: it has only the title given with it.
    title: str | None = None

    @classmethod
    def of_client(cls, client: Client) -> ClientSigner:
        return cls(name=client.signer_name, email=client.signer_email, title=client.signer_title)


def signer_of(version: ContractVersion) -> ClientSigner:
    """The client's signer the version printed (not the client record, corrected since?)."""
    return ClientSigner(
        name=version.signer_name, email=version.signer_email, title=version.signer_title
    )


def countersigner_of(version: ContractVersion) -> Countersigner | None:
    if version.countersigner_name and version.countersigner_email:
        return Countersigner(name=version.countersigner_name, email=version.countersigner_email)
    return None


def vendor_party(vendor: VendorIdentity, countersigner: Countersigner | None) -> document.Party:
    """The vendor's block « Entre les soussignés »: represented by the person who signs for it
    (the countersigner, in the capacity its signature box states), else by its configured
    representative. The block and the signature box never name two different people."""
    if countersigner is not None:
        name, title = countersigner.name, countersigner.title_at(vendor)
    else:
        name, title = vendor.representative, vendor.representative_title
    return document.Party(
        legal_name=vendor.legal_name,
        siren=vendor.siren,
        vat_number=vendor.vat_number,
        address_lines=(vendor.address,),
        representative_name=name,
        representative_email=None,
        representative_title=title,
    )


def build_document(
    *,
    number: str,
    version: int,
    quote: Quote,
    client: Client,
    cgv: CgvVersion,
    vendor: VendorIdentity,
    precedence: Sequence[str],
    now: datetime,
    clauses: Sequence[tuple[str, str, bool]] = (),
    amendment: bool = False,
    countersigner: Countersigner | None = None,
    signer: ClientSigner | None = None,
) -> document.ContractDocument:
    """``clauses``: (title, body, is Markdown), Markdown only for a legal library clause; the
    quote's particular terms, typed by sales, are printed exactly as typed. ``signer``: the
    client's signer (None: the client record's)."""
    signer = signer if signer is not None else ClientSigner.of_client(client)
    totals = totals_of(quote)
    title = (
        f"Avenant (version {version}) au contrat d’abonnement et de services"
        if amendment
        else "Contrat d’abonnement et de services"
    )
    return document.ContractDocument(
        title=title,
        contract_number=number,
        version=version,
        generated_at=now,
        vendor=vendor_party(vendor, countersigner),
        client=document.Party(
            legal_name=client.legal_name,
            siren=client.siren,
            vat_number=client.vat_number,
            address_lines=(client.address, f"{client.postal_code} {client.city}"),
            representative_name=signer.name,
            representative_email=signer.email,
            representative_title=signer.title,
        ),
        quote_number=quote.number,
        quote_date=quote.issued_on,
        quote_valid_until=quote.valid_until,
        lines=tuple(
            document.QuoteLineView(
                position=line.position,
                designation=line.designation,
                quantity=line.quantity,
                unit_price=line.unit_price,
                vat_rate=line.vat_rate,
                total_excl_vat=total,
                unit=line.unit,
                discount=discount_label(line.discount_kind, line.discount_value),
            )
            for line, total in zip(quote.lines, totals.line_totals, strict=True)
        ),
        vat_breakdown=tuple(
            document.VatBreakdown(rate=v.rate, base=v.base, vat=v.vat) for v in totals.vat_breakdown
        ),
        total_excl_vat=totals.total_excl_vat,
        total_vat=totals.total_vat,
        total_incl_vat=totals.total_incl_vat,
        subtotal_excl_vat=totals.subtotal_excl_vat,
        global_discount=totals.global_discount,
        global_discount_rate=(
            quote.global_discount_value
            if quote.global_discount_kind is DiscountKind.PERCENT
            else None
        ),
        commercial_terms=describe_terms(terms_of(quote)),
        particular_terms=(
            *(
                (
                    document.ParticularTerm(
                        title="Conditions particulières",
                        body=quote.particular_terms,
                        markdown=False,
                    ),
                )
                if quote.particular_terms
                else ()
            ),
            *(document.ParticularTerm(*clause) for clause in clauses),
        ),
        cgv_label=cgv.label,
        cgv_effective_date=cgv.effective_date,
        cgv_markdown=cgv.body_markdown,
        cgv_sha256=cgv.sha256,
        precedence=tuple(precedence),
        signers=(
            document.Signer(
                name=signer.name,
                email=signer.email,
                role=f"Pour {client.legal_name}",
                title=signer.title,
            ),
            *(
                (
                    document.Signer(
                        name=countersigner.name,
                        email=countersigner.email,
                        role=f"Pour {vendor.legal_name}",
                        title=countersigner.title_at(vendor),
                    ),
                )
                if countersigner
                else ()
            ),
        ),
    )


MAX_FREE_TEXT = 100_000


FREE_TEXT_TITLE = "Stipulations complémentaires"


def placeholder_values(quote: Quote, vendor: VendorIdentity) -> dict[str, str]:
    """The whitelisted values a clause can print (app.clauses.rules.PLACEHOLDERS)."""
    totals = totals_of(quote)
    terms = terms_of(quote)
    return {
        "client_name": quote.client.legal_name,
        "client_siren": quote.client.siren,
        "vendor_name": vendor.legal_name,
        "quote_number": quote.number,
        "commitment_months": str(terms.commitment_months),
        "notice_months": str(terms.notice_months),
        "payment_terms_days": str(terms.payment_terms_days),
        "billing_period": terms.billing_period.label,
        "total_excl_vat": format_amount(totals.total_excl_vat),
        "total_incl_vat": format_amount(totals.total_incl_vat),
    }


def free_text_problem(free_text: str) -> str | None:
    """Why the free particular terms cannot be printed, or None: the web form asks before
    anything else, so its page lists this with the other fields' problems."""
    if len(free_text.encode("utf-8")) > MAX_FREE_TEXT:
        return msg("Le texte libre dépasse 100 Ko.")
    return control_character_problem(free_text, multiline=True) or unprintable_character_problem(
        free_text, multiline=True
    )


def particular_clauses(
    quote: Quote, vendor: VendorIdentity, clauses: Sequence[ClauseVersion], free_text: str
) -> list[tuple[int | None, str, str]]:
    """(clause version id or None, title, Markdown with the placeholders filled), in order."""
    if problem := free_text_problem(free_text):
        raise ContractInvalid({"free_text": problem})
    values = placeholder_values(quote, vendor)
    picked: list[tuple[int | None, str, str]] = [
        (clause.id, clause.title, render_body(clause.body_markdown, values)) for clause in clauses
    ]
    if text := typed_text(free_text):  # printed as typed (see ParticularTerm)
        picked.append((None, FREE_TEXT_TITLE, text))
    return picked


def environment(templates_dir: Path | None) -> SandboxedEnvironment:
    """One sandboxed environment per template folder: it caches compiled templates."""
    return template_environment(templates_dir)


def printed_terms(version: ContractVersion) -> tuple[document.ParticularTerm, ...]:
    """The particular terms a stored version prints, in order, each saying whether it is
    Markdown (a library clause) or text printed as typed (see ``ParticularTerm``)."""
    quote = version.printed_quote
    typed = (
        (document.ParticularTerm("Conditions particulières", quote.particular_terms),)
        if quote.particular_terms
        else ()
    )
    return (
        *typed,
        *(
            document.ParticularTerm(c.title, c.body_markdown, c.clause_version_id is not None)
            for c in version.clauses
        ),
    )


def document_of(version: ContractVersion, vendor: VendorIdentity) -> document.ContractDocument:
    """The content of a stored version, rebuilt from what it recorded (its quote, CGV version,
    clauses as printed, precedence, date): what the DOCX export shows."""
    quote = version.printed_quote
    # A clause without a library version is free text typed by sales: printed as typed.
    terms = tuple(
        (c.title, c.body_markdown, c.clause_version_id is not None) for c in version.clauses
    )
    return build_document(
        number=version.contract.number,
        version=version.version,
        quote=quote,
        client=quote.client,
        cgv=version.cgv_version,
        vendor=vendor,
        precedence=tuple(version.precedence.split("|")),
        now=version.created_at,
        clauses=terms,
        amendment=version.amendment,
        countersigner=countersigner_of(version),
        signer=signer_of(version),
    )


def contract_docx(
    version: ContractVersion, vendor: VendorIdentity, templates_dir: Path | None = None
) -> bytes:
    return render_contract_docx(document_of(version, vendor), templates_dir)
