"""The one path version 1 and version n+1 of a contract share, once `checks` passed under its
row locks: quote + particular clauses + the CGV version in force, rendered as one PDF,
archived, attached to the contract (created and numbered for version 1), earlier unsigned
versions superseded, the quote marked contracted, and the version journalled (audit entry and
event) in the same transaction. Only the journal entry differs: the caller gives it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.audit import services as audit
from app.clauses.models import ClauseVersion
from app.clock import business_date
from app.contracts.models import Contract, ContractClause, ContractVersion, VersionStatus
from app.contracts.printing import (
    ClientSigner,
    Countersigner,
    build_document,
    environment,
    particular_clauses,
)
from app.documents.models import DocumentKind
from app.documents.services import deposit
from app.events import recording as events
from app.events.recording import Resource
from app.numbering.services import next_number
from app.quotes.models import Quote, QuoteStatus
from app.rendering import contract as document
from app.rendering.contract import template_precedence
from app.terms.versions import version_in_force
from app.vendor_settings import VendorIdentity
from storage import BlobStore


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
    signer: ClientSigner | None,
) -> tuple[ContractVersion, str]:
    """Render and archive one version (blob first, then row); the caller attaches it."""
    signer = signer if signer is not None else ClientSigner.of_client(quote.client)
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
        signer=signer,
    )
    pdf = document.render_contract_pdf(doc, env=environment(templates_dir))
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
        signer_name=signer.name,
        signer_email=signer.email,
        signer_title=signer.title,
        countersigner_name=countersigner.name if countersigner else None,
        countersigner_email=countersigner.email if countersigner else None,
        # what the document printed, so that a later change of the user's title changes nothing
        countersigner_title=countersigner.title_at(vendor) if countersigner else None,
        created_at=now,
    )
    row.cgv_version = cgv
    row.clauses = [
        ContractClause(position=index + 1, clause_version_id=cid, title=title, body_markdown=body)
        for index, (cid, title, body) in enumerate(picked)
    ]
    return row, stored.sha256


@dataclass(frozen=True)
class Choices:
    """What the author chose for the version: the same for version 1 and version n+1."""

    vendor: VendorIdentity
    templates_dir: Path | None
    precedence: Sequence[str] | None
    clauses: Sequence[ClauseVersion]
    free_text: str
    countersigner: Countersigner | None
    signer: ClientSigner | None = None  # None: the client record's signer


@dataclass(frozen=True)
class Entry:
    """The journal entry of a version just made: the audit entry's `details` and the event's
    `payload`, both named `action`."""

    action: str
    details: dict[str, Any]
    payload: dict[str, Any]


def add_version(
    session: Session,
    store: BlobStore,
    *,
    contract: Contract | None,
    quote: Quote,
    choices: Choices,
    reason: str,
    amendment: bool,
    now: datetime,
    actor: str,
    author_id: int | None,
    entry: Callable[[ContractVersion, str], Entry],
) -> ContractVersion:
    """The path version 1 (``contract`` None: the contract is created, numbered) and version
    n+1 share, once the caller checked and locked what it must: the clauses filled, the
    version rendered and archived, earlier unsigned versions superseded, the quote marked
    contracted, then journalled with what ``entry`` makes of the version and its PDF's
    SHA-256."""
    picked = particular_clauses(quote, choices.vendor, choices.clauses, choices.free_text)
    if contract is None:
        number, version_number = next_number(session, "CTR", business_date(now).year), 1
    else:
        number, version_number = contract.number, contract.latest.version + 1
    version, sha256 = _render_version(
        session,
        store,
        number=number,
        version=version_number,
        quote=quote,
        vendor=choices.vendor,
        now=now,
        actor=actor,
        templates_dir=choices.templates_dir,
        precedence=choices.precedence,
        picked=picked,
        amendment=amendment,
        countersigner=choices.countersigner,
        signer=choices.signer,
    )
    if contract is None:
        contract = Contract(
            number=number, client_id=quote.client_id, quote_id=quote.id, created_at=now
        )
        session.add(contract)
        session.flush()
    else:
        # before the new version joins contract.versions, which it would otherwise supersede
        for previous in contract.versions:
            if previous.status is VersionStatus.GENERATED:
                previous.status = VersionStatus.SUPERSEDED
    version.contract = contract
    version.reason = reason
    version.author_id = author_id
    session.add(version)
    quote.status = QuoteStatus.CONTRACTED
    session.flush()
    _journal(session, version, entry(version, sha256), now=now, actor=actor)
    return version


def _journal(
    session: Session, version: ContractVersion, entry: Entry, *, now: datetime, actor: str
) -> None:
    """The audit entry and the event of a version just made, in the transaction that made
    it."""
    contract = version.contract
    audit.record(
        session,
        now=now,
        actor=actor,
        action=entry.action,
        subject_type="contract",
        subject_id=contract.number,
        client_id=contract.client_id,
        details=entry.details,
    )
    events.record(
        session, entry.action, Resource("contract", contract.number), entry.payload, now=now
    )
