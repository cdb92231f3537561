"""Contract versions asked for on the web and rendered by a job (`contracts.generate_requested`):
the sales request answers at once with a follow page, the job renders (WeasyPrint takes
seconds) and the page shows the result without a reload.

The rendering itself is `generation.generate_contract` / `generation.new_version`, the
synchronous unit of work every caller shares (the bulk job, the API). Here are only the request
(`ask_first_version`, `ask_new_version`: checked at once, so the form's refusals stay
immediate, and recorded as a pending row) and the job's work (`fulfil`).

One version per double-click: the request checks under the quote's (or the contract's) row
lock, then returns the pending generation if one exists; the partial unique indexes of
`contract_generations` hold it too. The job locks its row and re-checks it is pending, and the
generation re-checks under its locks, so a job run twice renders once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.clauses.services import get_versions
from app.clock import business_date
from app.config import VendorIdentity
from app.contracts import generation, printing
from app.contracts.errors import ContractNotFound, QuoteAlreadyContracted, VersionAlreadyCreated
from app.contracts.models import Contract, ContractGeneration, ContractVersion, GenerationStatus
from app.db import transaction
from app.errors import DomainError
from app.quotes.models import Quote
from app.quotes.services import get_quote
from app.runtime import Collaborators
from app.terms.versions import version_in_force

POLL_AFTER = 1.5
"""Seconds between two polls of the follow page: a version renders in a few seconds."""


@dataclass(frozen=True)
class Choices:
    """What the form asked for, beyond the quote or contract."""

    author_id: int
    clause_version_ids: Sequence[int] = ()
    free_text: str = ""


def _pending(session: Session, *conditions: object) -> ContractGeneration | None:
    return session.scalar(
        select(ContractGeneration).where(
            ContractGeneration.status == GenerationStatus.PENDING,
            *conditions,  # type: ignore[arg-type]
        )
    )


def _check_printable(
    session: Session, quote: Quote, choices: Choices, vendor: VendorIdentity, now: datetime
) -> None:
    """What the rendering would refuse in the form's input (unknown clauses, free text too
    long or unprintable) or in the instance (no CGV in force), refused before any job."""
    clauses = get_versions(session, choices.clause_version_ids)
    printing.particular_clauses(quote, vendor, clauses, choices.free_text)
    version_in_force(session, business_date(now))


def ask_first_version(
    session: Session, quote: Quote, choices: Choices, *, vendor: VendorIdentity, now: datetime
) -> ContractGeneration:
    """Version 1 of the quote's contract, to be rendered by the job: the pending generation of
    this quote if there is one (a second click). Raises what `generate_contract` would refuse
    now (the quote contracted already, expired; the form's input)."""
    generation.check_first_version(session, quote, now)
    _check_printable(session, quote, choices, vendor, now)
    pending = _pending(
        session, ContractGeneration.quote_id == quote.id, ContractGeneration.first_version
    )
    if pending is not None:
        return pending
    return _add(session, choices, now=now, first_version=True, quote_id=quote.id)


def ask_new_version(
    session: Session,
    contract: Contract,
    choices: Choices,
    *,
    vendor: VendorIdentity,
    reason: str,
    based_on: int | None,
    quote: Quote | None,
    now: datetime,
) -> ContractGeneration:
    """Version n+1 of the contract, to be rendered by the job: the contract's pending
    generation if there is one (a second click). Raises what `new_version` would refuse now."""
    reason = generation.check_new_version(
        session, contract, reason=reason, based_on=based_on, quote=quote, now=now
    )
    printed = quote if quote is not None else contract.latest.printed_quote
    _check_printable(session, printed, choices, vendor, now)
    pending = _pending(session, ContractGeneration.contract_id == contract.id)
    if pending is not None:
        return pending
    return _add(
        session,
        choices,
        now=now,
        first_version=False,
        quote_id=quote.id if quote is not None else None,
        contract_id=contract.id,
        based_on=based_on,
        reason=reason,
    )


def _add(
    session: Session,
    choices: Choices,
    *,
    now: datetime,
    first_version: bool,
    quote_id: int | None,
    contract_id: int | None = None,
    based_on: int | None = None,
    reason: str = "",
) -> ContractGeneration:
    row = ContractGeneration(
        first_version=first_version,
        quote_id=quote_id,
        contract_id=contract_id,
        based_on=based_on,
        author_id=choices.author_id,
        clause_version_ids=list(choices.clause_version_ids),
        free_text=choices.free_text,
        reason=reason,
        status=GenerationStatus.PENDING,
        requested_at=now,
    )
    session.add(row)
    session.flush()
    return row


def get_generation(
    session: Session, generation_id: int, *, lock: bool = False
) -> ContractGeneration:
    """The generation as the database has it now (re-read even if the session holds it: the
    request that asked for it reads what its job did since)."""
    row = session.get(
        ContractGeneration, generation_id, with_for_update=lock, populate_existing=True
    )
    if row is None:
        raise ContractNotFound(f"Génération de contrat n° {generation_id} introuvable.")
    return row


def _render(session: Session, collab: Collaborators, row: ContractGeneration) -> ContractVersion:
    author = session.get_one(User, row.author_id)
    actor = f"user:{author.id}"
    clauses = get_versions(session, row.clause_version_ids)
    settings = collab.settings
    if row.first_version:
        assert row.quote_id is not None  # a version 1 is asked for a quote
        return generation.generate_contract(
            session,
            collab.store,
            quote=get_quote(session, row.quote_id),
            vendor=settings.vendor,
            now=collab.now,
            actor=actor,
            author_id=author.id,
            templates_dir=settings.contract_templates_dir,
            clauses=clauses,
            free_text=row.free_text,
            countersigner=printing.Countersigner.for_vendor(
                settings.vendor, author.full_name, author.email
            ),
        )
    assert row.contract_id is not None  # a version n+1 is asked for a contract
    return generation.new_version(
        session,
        collab.store,
        contract=session.get_one(Contract, row.contract_id),
        reason=row.reason,
        vendor=settings.vendor,
        now=collab.now,
        actor=actor,
        author_id=author.id,
        quote=get_quote(session, row.quote_id) if row.quote_id is not None else None,
        templates_dir=settings.contract_templates_dir,
        clauses=clauses,
        free_text=row.free_text,
        based_on=row.based_on,
    )


def fulfil(collab: Collaborators, generation_id: int) -> GenerationStatus:
    """The job's work: render the pending generation in one transaction with the row that
    says it is done. A generation no longer pending is left alone (a job run twice). A version
    made meanwhile by another path (the API, a colleague) marks it done with that contract;
    a refusal (the quote expired meanwhile) marks it failed with the reason: retrying would
    change nothing. Anything else (a rendering crash) propagates, and the queue retries."""
    try:
        with transaction(collab.session_factory) as session:
            row = get_generation(session, generation_id, lock=True)
            if row.status is not GenerationStatus.PENDING:
                return row.status
            version = _render(session, collab, row)
            row.status = GenerationStatus.DONE
            row.version_id = version.id
            row.contract_id = version.contract_id
            row.finished_at = collab.now
            return GenerationStatus.DONE
    except (QuoteAlreadyContracted, VersionAlreadyCreated) as exc:
        return _finish(collab, generation_id, GenerationStatus.DONE, exc.detail, exc.contract_id)
    except DomainError as exc:
        return _finish(collab, generation_id, GenerationStatus.FAILED, exc.detail, None)


def _finish(
    collab: Collaborators,
    generation_id: int,
    status: GenerationStatus,
    problem: str,
    contract_id: int | None,
) -> GenerationStatus:
    with transaction(collab.session_factory) as session:
        row = get_generation(session, generation_id, lock=True)
        if row.status is GenerationStatus.PENDING:
            row.status = status
            row.problem = problem
            row.contract_id = contract_id if contract_id is not None else row.contract_id
            row.finished_at = collab.now
        return row.status


def pending_since(collab: Collaborators, before: datetime) -> list[int]:
    """Generations still pending, asked before `before`: their job was lost (a broker down
    when the form enqueued it); the sweep enqueues them again."""
    with transaction(collab.session_factory) as session:
        return list(
            session.scalars(
                select(ContractGeneration.id).where(
                    ContractGeneration.status == GenerationStatus.PENDING,
                    ContractGeneration.requested_at < before,
                )
            )
        )


@dataclass(frozen=True)
class GenerationState:
    """What the follow page and its `suivi.json` show."""

    stage: str  # "pending", "done" or "failed"
    message: str
    contract_id: int | None
    """The contract to open: set once done."""
    made: bool
    """Done by this generation (not a version that existed already)."""

    @property
    def pending(self) -> bool:
        return self.stage == GenerationStatus.PENDING.value


def state_of(session: Session, generation_id: int) -> GenerationState:
    row = get_generation(session, generation_id)
    if row.status is GenerationStatus.PENDING:
        what = "du contrat" if row.first_version else "de la nouvelle version"
        return GenerationState(row.status.value, f"Génération {what} en cours…", None, made=False)
    if row.status is GenerationStatus.FAILED:
        return GenerationState(
            row.status.value, f"Génération refusée : {row.problem}", None, made=False
        )
    if row.version_id is None:  # another path made it first: what it made
        return GenerationState(row.status.value, row.problem or "", row.contract_id, made=False)
    version = session.get_one(ContractVersion, row.version_id)
    number = version.contract.number
    if row.first_version:
        message = f"Contrat {number} (version 1) généré."
    else:
        kind = "avenant" if version.amendment else "version"
        message = f"Contrat {number} : {kind} {version.version} générée."
    return GenerationState(row.status.value, message, version.contract_id, made=True)
