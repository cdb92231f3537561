"""Generating contracts: version 1 from a quote, then versions n+1 and amendments. Both go
through one path (`_add_version`): quote + particular clauses + the CGV version in force,
rendered as one PDF, archived, attached to the contract; only the checks and the locks
before it, and the journal entry after it, differ."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import services as audit
from app.clauses.models import ClauseVersion
from app.clock import business_date
from app.contracts.errors import (
    ContractInvalid,
    ContractRefused,
    QuoteAlreadyContracted,
    VersionAlreadyCreated,
)
from app.contracts.models import Contract, ContractClause, ContractVersion, VersionStatus
from app.contracts.printing import (
    ClientSigner,
    Countersigner,
    build_document,
    countersigner_of,
    environment,
    particular_clauses,
)
from app.contracts.queries import contract_made_from
from app.documents.models import DocumentKind
from app.documents.services import deposit
from app.events import recording as events
from app.events.recording import Resource
from app.messages import msg
from app.numbering.services import next_number
from app.plaintext import control_character_problem
from app.quotes.models import Quote, QuoteStatus
from app.rendering import contract as document
from app.rendering.contract import template_precedence
from app.terms.versions import version_in_force
from app.vendor_settings import VendorIdentity
from storage import BlobStore

MAX_REASON = 1000


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
        existing = contract_made_from(session, quote.id)
        if existing is not None:
            raise QuoteAlreadyContracted(
                msg(
                    "Le devis {quote_number} a déjà donné lieu au contrat {existing_number} : "
                    "rien d'autre n'a été généré.",
                    quote_number=quote.number,
                    existing_number=existing.number,
                ),
                existing.id,
            )
        raise ContractRefused(
            msg(
                "Le devis {quote_number} a déjà donné lieu à un contrat.", quote_number=quote.number
            )
        )
    if quote.valid_until < today:
        raise ContractRefused(
            msg(
                "Le devis {quote_number} a expiré le {quote_valid_until_isoformat} : établissez "
                "un nouveau devis.",
                quote_number=quote.number,
                quote_valid_until_isoformat=quote.valid_until.isoformat(),
            )
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


def _add_version(
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
) -> tuple[ContractVersion, str]:
    """The path version 1 (``contract`` None: the contract is created, numbered) and version
    n+1 share, once the caller checked and locked what it must: the clauses filled, the
    version rendered and archived, earlier unsigned versions superseded, the quote marked
    contracted. Returns the version and its PDF's SHA-256."""
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
    return version, sha256


def check_first_version(session: Session, quote: Quote, now: datetime) -> None:
    """What refuses version 1 of the quote's contract, checked under the quote's row lock
    (held until the transaction ends): the web form checks it before it hands the rendering
    to a job, and the job checks it again."""
    _lock_quote(session, quote)
    _check_quote(quote, business_date(now), session)


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
    signer: ClientSigner | None = None,
) -> ContractVersion:
    """Version 1 of a new contract. ``precedence`` defaults to the template's setting;
    ``signer`` (the client's) to the client record's."""
    check_first_version(session, quote, now)
    choices = Choices(vendor, templates_dir, precedence, clauses, free_text, countersigner, signer)
    version, sha256 = _add_version(
        session,
        store,
        contract=None,
        quote=quote,
        choices=choices,
        reason="Version initiale",
        amendment=False,
        now=now,
        actor=actor,
        author_id=author_id,
    )
    _journal(
        session,
        version,
        "contract.generated",
        details={"version": 1, "sha256": sha256, "cgv": version.cgv_version.label},
        payload={
            "version": 1,
            "quote": {"id": quote.id, "links": {"api": f"/api/v1/quotes/{quote.id}"}},
            "client_id": quote.client_id,
            "cgv_version": version.cgv_version.label,
        },
        now=now,
        actor=actor,
    )
    return version


def _journal(
    session: Session,
    version: ContractVersion,
    action: str,
    *,
    details: dict[str, Any],
    payload: dict[str, Any],
    now: datetime,
    actor: str,
) -> None:
    """The audit entry (`details`) and the event (`payload`) of a version just made, both
    named `action`, in the transaction that made it."""
    contract = version.contract
    audit.record(
        session,
        now=now,
        actor=actor,
        action=action,
        subject_type="contract",
        subject_id=contract.number,
        client_id=contract.client_id,
        details=details,
    )
    events.record(session, action, Resource("contract", contract.number), payload, now=now)


def check_new_version(
    session: Session,
    contract: Contract,
    *,
    reason: str,
    based_on: int | None,
    quote: Quote | None,
    now: datetime,
) -> str:
    """What refuses version n+1, checked under the contract's and its versions' row locks
    (held until the transaction ends; the revised quote's too): the web form checks it before
    it hands the rendering to a job, and the job checks it again. Returns the reason, trimmed."""
    reason = reason.strip()
    if not reason:
        raise ContractInvalid({"reason": msg("Indiquez le motif de la nouvelle version.")})
    if len(reason) > MAX_REASON or control_character_problem(reason, multiline=True):
        raise ContractInvalid(
            {"reason": msg("Motif de {max_reason} caractères au maximum.", max_reason=MAX_REASON)}
        )
    _lock_versions(session, contract)
    latest = contract.latest
    if based_on is not None and latest.version != based_on:
        raise VersionAlreadyCreated(
            msg(
                "La version {latest_version} du contrat {contract_number} a été créée depuis "
                "l'affichage de la version {based_on} (double clic ou autre utilisateur) : "
                "vérifiez-la avant d'en demander une autre.",
                latest_version=latest.version,
                contract_number=contract.number,
                based_on=based_on,
            ),
            contract_id=contract.id,
        )
    if latest.status is VersionStatus.SENT:
        raise ContractRefused(
            msg(
                "La version {latest_version} est en cours de signature : attendez la signature "
                "ou son expiration.",
                latest_version=latest.version,
            )
        )
    if quote is not None:
        if quote.client_id != contract.client_id:
            raise ContractInvalid({"quote": msg("Ce devis concerne un autre client.")})
        _lock_quote(session, quote)
        _check_quote(quote, business_date(now), session)
    return reason


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
    signer: ClientSigner | None = None,
) -> ContractVersion:
    """Version n+1 after a change (a revised quote, other clauses, the CGV now in force).

    ``based_on``: the version the user saw when asking (the form sends it). If another version
    was made since, under the lock (a double-click, a colleague), nothing is created:
    `VersionAlreadyCreated` names the one that exists.

    Earlier versions are never modified, except that an unsigned one is marked superseded.
    After a signed version, the new one is an amendment (avenant), to be signed again. A
    version out for signature blocks a new one (its signers must not sign a stale text)."""
    reason = check_new_version(
        session, contract, reason=reason, based_on=based_on, quote=quote, now=now
    )
    latest = contract.latest
    quote = quote if quote is not None else latest.printed_quote
    amendment = any(v.status is VersionStatus.SIGNED for v in contract.versions)
    vendor_signer = countersigner or countersigner_of(latest)
    choices = Choices(vendor, templates_dir, precedence, clauses, free_text, vendor_signer, signer)
    version, sha256 = _add_version(
        session,
        store,
        contract=contract,
        quote=quote,
        choices=choices,
        reason=reason,
        amendment=amendment,
        now=now,
        actor=actor,
        author_id=author_id,
    )
    _journal(
        session,
        version,
        "contract.version_created",
        details={
            "version": version.version,
            "sha256": sha256,
            "amendment": amendment,
            "reason": reason,
        },
        payload={
            "version": version.version,
            "amendment": amendment,
            "client_id": contract.client_id,
        },
        now=now,
        actor=actor,
    )
    return version
