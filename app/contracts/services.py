"""Generating contracts: quote + particular terms + the CGV version in force, as one PDF."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.audit import services as audit
from app.clauses.models import ClauseVersion
from app.clauses.services import render_body
from app.clients.models import Client
from app.clock import business_date
from app.config import VendorIdentity
from app.contracts import rules
from app.contracts.errors import (
    ContractInvalid,
    ContractNotFound,
    ContractRefused,
    QuoteAlreadyContracted,
    VersionAlreadyCreated,
)
from app.contracts.models import Contract, ContractClause, ContractVersion, VersionStatus
from app.documents.models import DocumentKind
from app.documents.services import deposit
from app.numbering.services import next_number
from app.plaintext import control_character_problem
from app.pricing.discounts import DiscountKind
from app.printable import typed_text, unprintable_character_problem
from app.quotes.commercial_terms import describe_terms
from app.quotes.models import Quote, QuoteStatus
from app.quotes.services import terms_of, totals_of
from app.rendering import contract as document
from app.rendering.contract import template_precedence
from app.rendering.docx import render_contract_docx
from app.rendering.french import format_amount, format_date, format_decimal, format_percent
from app.terms.models import CgvVersion
from app.terms.services import version_in_force
from storage import BlobStore

# The order of precedence is a setting of the contract template (vendors differ); this is the
# default, which follows Code civil art. 1119: particular terms prevail over general ones.


def _discount_label(kind: DiscountKind, value: Decimal) -> str:
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
) -> document.ContractDocument:
    """``clauses``: (title, body, is Markdown), Markdown only for a legal library clause; the
    quote's particular terms, typed by sales, are printed exactly as typed."""
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
        vendor=document.Party(
            legal_name=vendor.legal_name,
            siren=vendor.siren,
            vat_number=vendor.vat_number,
            address_lines=(vendor.address,),
            representative_name=vendor.representative,
            representative_email=None,
        ),
        client=document.Party(
            legal_name=client.legal_name,
            siren=client.siren,
            vat_number=client.vat_number,
            address_lines=(client.address, f"{client.postal_code} {client.city}"),
            representative_name=client.signer_name,
            representative_email=client.signer_email,
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
                discount=_discount_label(line.discount_kind, line.discount_value),
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
                name=client.signer_name, email=client.signer_email, role=f"Pour {client.legal_name}"
            ),
            *(
                (
                    document.Signer(
                        name=countersigner.name,
                        email=countersigner.email,
                        role=f"Pour {vendor.legal_name}",
                    ),
                )
                if countersigner
                else ()
            ),
        ),
    )


def _lock_quote(session: Session, quote: Quote) -> None:
    """Lock the quote's row until the transaction ends and re-read its status: of two
    parallel generations (a double-click), the second waits for the first to commit, then
    finds the quote contracted. SQLite ignores FOR UPDATE; its BEGIN IMMEDIATE transactions
    are serialised already."""
    session.execute(select(Quote.id).where(Quote.id == quote.id).with_for_update())
    session.refresh(quote, ["status"])


def _lock_versions(session: Session, contract: Contract) -> None:
    """Lock the contract and its versions until the transaction ends, and re-read them: two
    parallel new versions are numbered one after the other (the second waits for the first
    to commit), and a version being sent (locked by signatures.lock_version) is not
    superseded under the sender. SQLite ignores FOR UPDATE; its BEGIN IMMEDIATE transactions
    are serialised already."""
    session.execute(select(Contract.id).where(Contract.id == contract.id).with_for_update())
    session.scalars(
        select(ContractVersion)
        .where(ContractVersion.contract_id == contract.id)
        .with_for_update(of=ContractVersion)
        .execution_options(populate_existing=True)
    ).all()
    session.refresh(contract, ["versions"])


def _check_quote(quote: Quote, today: date, session: Session) -> None:
    if quote.status is QuoteStatus.CONTRACTED:
        existing = _contract_made_from(session, quote.id)
        if existing is not None:
            raise QuoteAlreadyContracted(
                f"Le devis {quote.number} a déjà donné lieu au contrat {existing.number} : "
                "rien d'autre n'a été généré.",
                existing.id,
            )
        raise ContractRefused(f"Le devis {quote.number} a déjà donné lieu à un contrat.")
    if quote.valid_until < today:
        raise ContractRefused(
            f"Le devis {quote.number} a expiré le {quote.valid_until.isoformat()} : "
            "établissez un nouveau devis."
        )


def _render_version(
    session: Session,
    store: BlobStore,
    *,
    number: str,
    version: int,
    quote: Quote,
    vendor: VendorIdentity,
    now: datetime,
    actor: str,
    templates_dir: Path | None,
    precedence: Sequence[str] | None,
    picked: Sequence[tuple[int | None, str, str]],
    amendment: bool,
    countersigner: Countersigner | None,
) -> tuple[ContractVersion, str]:
    """Render and archive one version (blob first, then row); the caller attaches it."""
    today = business_date(now)
    cgv = version_in_force(session, today)
    order = tuple(precedence) if precedence is not None else template_precedence(templates_dir)
    doc = build_document(
        number=number,
        version=version,
        quote=quote,
        client=quote.client,
        cgv=cgv,
        vendor=vendor,
        precedence=order,
        now=now,
        clauses=[(title, body, cid is not None) for cid, title, body in picked],
        amendment=amendment,
        countersigner=countersigner,
    )
    pdf = document.render_contract_pdf(doc, env=_environment(templates_dir))
    stored = deposit(
        session,
        store,
        kind=DocumentKind.CONTRACT,
        client_id=quote.client_id,
        reference=number,
        version=version,
        data=pdf,
        media_type="application/pdf",
        filename=f"{number}-v{version}.pdf",
        now=now,
        actor=actor,
    )
    row = ContractVersion(
        version=version,
        status=VersionStatus.GENERATED,
        cgv_version_id=cgv.id,
        document_id=stored.id,
        quote_id=quote.id,
        amendment=amendment,
        precedence="|".join(order),
        reason="",
        author_id=None,
        countersigner_name=countersigner.name if countersigner else None,
        countersigner_email=countersigner.email if countersigner else None,
        created_at=now,
    )
    row.cgv_version = cgv
    row.clauses = [
        ContractClause(position=index + 1, clause_version_id=cid, title=title, body_markdown=body)
        for index, (cid, title, body) in enumerate(picked)
    ]
    return row, stored.sha256


def generate_contract(
    session: Session,
    store: BlobStore,
    *,
    quote: Quote,
    vendor: VendorIdentity,
    now: datetime,
    actor: str,
    author_id: int | None,
    templates_dir: Path | None = None,
    precedence: Sequence[str] | None = None,
    clauses: Sequence[ClauseVersion] = (),
    free_text: str = "",
    countersigner: Countersigner | None = None,
) -> ContractVersion:
    """Version 1 of a new contract. ``precedence`` defaults to the template's setting."""
    today = business_date(now)
    _lock_quote(session, quote)
    _check_quote(quote, today, session)
    picked = particular_clauses(quote, vendor, clauses, free_text)
    number = next_number(session, "CTR", today.year)
    version, sha256 = _render_version(
        session,
        store,
        number=number,
        version=1,
        quote=quote,
        vendor=vendor,
        now=now,
        actor=actor,
        templates_dir=templates_dir,
        precedence=precedence,
        picked=picked,
        amendment=False,
        countersigner=countersigner,
    )
    contract = Contract(number=number, client_id=quote.client_id, quote_id=quote.id, created_at=now)
    session.add(contract)
    session.flush()
    version.contract = contract
    version.reason = "Version initiale"
    version.author_id = author_id
    session.add(version)
    quote.status = QuoteStatus.CONTRACTED
    session.flush()
    audit.record(
        session,
        now=now,
        actor=actor,
        action="contract.generated",
        subject_type="contract",
        subject_id=number,
        client_id=quote.client_id,
        details={"version": 1, "sha256": sha256, "cgv": version.cgv_version.label},
    )
    return version


MAX_REASON = 1000


def new_version(
    session: Session,
    store: BlobStore,
    *,
    contract: Contract,
    reason: str,
    vendor: VendorIdentity,
    now: datetime,
    actor: str,
    author_id: int | None,
    quote: Quote | None = None,
    templates_dir: Path | None = None,
    precedence: Sequence[str] | None = None,
    clauses: Sequence[ClauseVersion] = (),
    free_text: str = "",
    countersigner: Countersigner | None = None,
    based_on: int | None = None,
) -> ContractVersion:
    """Version n+1 after a change (a revised quote, other clauses, the CGV now in force).

    ``based_on``: the version the user saw when asking (the form sends it). If another version
    was made since, under the lock (a double-click, a colleague), nothing is created:
    `VersionAlreadyCreated` names the one that exists.

    Earlier versions are never modified, except that an unsigned one is marked superseded.
    After a signed version, the new one is an amendment (avenant), to be signed again. A
    version out for signature blocks a new one (its signers must not sign a stale text)."""
    reason = reason.strip()
    if not reason:
        raise ContractInvalid({"reason": "Indiquez le motif de la nouvelle version."})
    if len(reason) > MAX_REASON or control_character_problem(reason, multiline=True):
        raise ContractInvalid({"reason": f"Motif de {MAX_REASON} caractères au maximum."})
    _lock_versions(session, contract)
    latest = contract.latest
    if based_on is not None and latest.version != based_on:
        raise VersionAlreadyCreated(
            f"La version {latest.version} du contrat {contract.number} a été créée depuis "
            f"l'affichage de la version {based_on} (double clic ou autre utilisateur) : "
            "vérifiez-la avant d'en demander une autre.",
            contract_id=contract.id,
        )
    if latest.status is VersionStatus.SENT:
        raise ContractRefused(
            f"La version {latest.version} est en cours de signature : "
            "attendez la signature ou son expiration."
        )
    today = business_date(now)
    if quote is None:
        quote = latest.printed_quote
    else:
        if quote.client_id != contract.client_id:
            raise ContractInvalid({"quote": "Ce devis concerne un autre client."})
        _lock_quote(session, quote)
        _check_quote(quote, today, session)
    picked = particular_clauses(quote, vendor, clauses, free_text)
    amendment = any(v.status is VersionStatus.SIGNED for v in contract.versions)
    version, sha256 = _render_version(
        session,
        store,
        number=contract.number,
        version=latest.version + 1,
        quote=quote,
        vendor=vendor,
        now=now,
        actor=actor,
        templates_dir=templates_dir,
        precedence=precedence,
        picked=picked,
        amendment=amendment,
        countersigner=countersigner or countersigner_of(latest),
    )
    for previous in contract.versions:
        if previous.status is VersionStatus.GENERATED:
            previous.status = VersionStatus.SUPERSEDED
    version.contract = contract
    version.reason = reason
    version.author_id = author_id
    session.add(version)
    quote.status = QuoteStatus.CONTRACTED
    session.flush()
    audit.record(
        session,
        now=now,
        actor=actor,
        action="contract.version_created",
        subject_type="contract",
        subject_id=contract.number,
        client_id=contract.client_id,
        details={
            "version": version.version,
            "sha256": sha256,
            "amendment": amendment,
            "reason": reason,
        },
    )
    return version


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


def particular_clauses(
    quote: Quote, vendor: VendorIdentity, clauses: Sequence[ClauseVersion], free_text: str
) -> list[tuple[int | None, str, str]]:
    """(clause version id or None, title, Markdown with the placeholders filled), in order."""
    if len(free_text.encode("utf-8")) > MAX_FREE_TEXT:
        raise ContractInvalid({"free_text": "Le texte libre dépasse 100 Ko."})
    if problem := control_character_problem(
        free_text, multiline=True
    ) or unprintable_character_problem(free_text, multiline=True):
        raise ContractInvalid({"free_text": problem})
    values = placeholder_values(quote, vendor)
    picked: list[tuple[int | None, str, str]] = [
        (clause.id, clause.title, render_body(clause.body_markdown, values)) for clause in clauses
    ]
    if text := typed_text(free_text):  # printed as typed (see ParticularTerm)
        picked.append((None, FREE_TEXT_TITLE, text))
    return picked


def _environment(templates_dir: Path | None) -> SandboxedEnvironment:
    """One sandboxed environment per template folder: it caches compiled templates."""
    return document.template_environment(templates_dir)


def get_contract(session: Session, contract_id: int) -> Contract:
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise ContractNotFound(f"Contrat n° {contract_id} introuvable.")
    return contract


def contracts_of(session: Session, client_id: int) -> Sequence[Contract]:
    return (
        session.scalars(
            select(Contract).where(Contract.client_id == client_id).order_by(Contract.id.desc())
        )
        .unique()
        .all()
    )


def all_contracts(session: Session) -> Sequence[Contract]:
    return session.scalars(select(Contract).order_by(Contract.id.desc())).unique().all()


def contract_of_quote(session: Session, quote_id: int) -> Contract | None:
    return session.scalar(select(Contract).where(Contract.quote_id == quote_id))


def _contract_made_from(session: Session, quote_id: int) -> Contract | None:
    """The contract the quote became: as its version 1, or as a later version (a revised
    quote); versions before migration 0003 record no quote of their own."""
    return session.scalar(
        select(Contract)
        .outerjoin(ContractVersion, ContractVersion.contract_id == Contract.id)
        .where(or_(Contract.quote_id == quote_id, ContractVersion.quote_id == quote_id))
        .order_by(Contract.id)
        .limit(1)
    )


def snapshot(version: ContractVersion) -> rules.VersionSnapshot:
    quote = version.printed_quote
    totals = totals_of(quote)
    return rules.VersionSnapshot(
        version=version.version,
        quote_number=quote.number,
        lines=tuple(
            rules.LineSnapshot(
                designation=line.designation,
                quantity=format_decimal(line.quantity) + (f" {line.unit}" if line.unit else ""),
                unit_price=format_amount(line.unit_price),
                discount=_discount_label(line.discount_kind, line.discount_value),
                total_excl_vat=format_amount(total),
            )
            for line, total in zip(quote.lines, totals.line_totals, strict=True)
        ),
        total_excl_vat=format_amount(totals.total_excl_vat),
        total_vat=format_amount(totals.total_vat),
        total_incl_vat=format_amount(totals.total_incl_vat),
        terms=describe_terms(terms_of(quote)),
        clauses=(
            *(
                (("Conditions particulières", quote.particular_terms),)
                if quote.particular_terms
                else ()
            ),
            *((c.title, c.body_markdown) for c in version.clauses),
        ),
        cgv=f"{version.cgv_version.label} du {format_date(version.cgv_version.effective_date)}",
        precedence=tuple(version.precedence.split("|")),
    )


def compare_versions(contract: Contract, first: int, second: int) -> list[rules.Change]:
    by_number = {v.version: v for v in contract.versions}
    if first not in by_number or second not in by_number:
        raise ContractNotFound(f"Le contrat {contract.number} n'a pas ces versions.")
    return rules.diff(snapshot(by_number[first]), snapshot(by_number[second]))


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
    )


def countersigner_of(version: ContractVersion) -> Countersigner | None:
    if version.countersigner_name and version.countersigner_email:
        return Countersigner(name=version.countersigner_name, email=version.countersigner_email)
    return None


def contract_docx(
    version: ContractVersion, vendor: VendorIdentity, templates_dir: Path | None = None
) -> bytes:
    return render_contract_docx(document_of(version, vendor), templates_dir)
