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

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.clauses.services import get_versions
from app.clock import business_date
from app.contracts import checks, generation, printing
from app.contracts.errors import AlreadyInContract, ContractNotFound
from app.contracts.models import Contract, ContractGeneration, ContractVersion, GenerationStatus
from app.db import transaction
from app.errors import DomainError
from app.messages import msg
from app.queue.tasks import RETRIES
from app.quotes.models import Quote
from app.quotes.services import get_quote
from app.runtime import Collaborators
from app.terms.versions import version_in_force
from app.vendor_settings import VendorIdentity

log = logging.getLogger(__name__)

POLL_AFTER = 1.5
"""Seconds between two polls of the follow page: a version renders in a few seconds."""

LOST_AFTER = timedelta(minutes=5)
"""A generation pending this long lost its job: rendering takes seconds, and the queue's own
retries re-run a failed one before this. The sweep enqueues it again; its page says it waits
(no worker may be running, and the sweep itself is a worker's job)."""

MAX_RENDER_ATTEMPTS = RETRIES + 1
"""Renders that crash before the generation is failed: the job's own attempts (its first run
and its retries, about 21 minutes) or, inline or with the job lost, as many sweeps. A render
that failed this often fails again: the sales retry from the page once the cause is fixed."""

GAVE_UP = (
    "le rendu du PDF a échoué {attempts} fois de suite. Relancez la génération ; si elle "
    "échoue encore, prévenez un administrateur (le journal des tâches dit pourquoi)."
)


@dataclass(frozen=True)
class Choices:
    """What the form (or the API's body) asked for, beyond the quote or contract: asked by a
    user (`author_id`) or by an API token (`token_id`), who may name the vendor's
    countersigner."""

    author_id: int | None
    clause_version_ids: Sequence[int] = ()
    free_text: str = ""
    token_id: int | None = None
    countersigner: tuple[str, str] | None = None
    signer: printing.ClientSigner | None = None  # the client's; None: the client record's
    retry_of: int | None = None  # the failed generation first asked, when asked again


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
    checks.check_first_version(session, quote, now)
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
    reason = checks.check_new_version(
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
        token_id=choices.token_id,
        countersigner_name=choices.countersigner[0] if choices.countersigner else None,
        countersigner_email=choices.countersigner[1] if choices.countersigner else None,
        signer_name=choices.signer.name if choices.signer else None,
        signer_email=choices.signer.email if choices.signer else None,
        signer_title=choices.signer.title if choices.signer else None,
        retry_of=choices.retry_of,
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
        raise ContractNotFound(
            msg(
                "Génération de contrat n° {generation_id} introuvable.", generation_id=generation_id
            )
        )
    return row


def _countersigner(
    session: Session, vendor: VendorIdentity, row: ContractGeneration
) -> printing.Countersigner | None:
    """Asked on the web: the author countersigns for the vendor (unless a signatory is
    configured). Through the API: whom the body named, else the configured signatory, else
    no countersignature. A retry follows the rule of the generation first asked: the user who
    retries an API generation does not become its countersigner."""
    asked = session.get_one(ContractGeneration, row.retry_of) if row.retry_of else row
    if asked.author_id is not None:
        author = session.get_one(User, asked.author_id)
        return printing.Countersigner.for_vendor(
            vendor, author.full_name, author.email, author.title
        )
    if row.countersigner_email is None and not vendor.signer_email:
        return None
    return printing.Countersigner.for_vendor(
        vendor, row.countersigner_name or "", row.countersigner_email or ""
    )


def asked_signer(row: ContractGeneration) -> printing.ClientSigner | None:
    """The client's signer the API body named; None: the client record's, read when the
    version is rendered (what the signature page prints and who will be invited)."""
    if row.signer_name is None or row.signer_email is None:
        return None
    return printing.ClientSigner(
        name=row.signer_name, email=row.signer_email, title=row.signer_title
    )


def actor_of(row: ContractGeneration) -> str:
    """Who asked, as the audit trail names them."""
    return f"user:{row.author_id}" if row.author_id is not None else f"token:{row.token_id}"


def _render(session: Session, collab: Collaborators, row: ContractGeneration) -> ContractVersion:
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
            actor=actor_of(row),
            author_id=row.author_id,
            templates_dir=settings.contract_templates_dir,
            clauses=clauses,
            free_text=row.free_text,
            countersigner=_countersigner(session, settings.vendor, row),
            signer=asked_signer(row),
        )
    assert row.contract_id is not None  # a version n+1 is asked for a contract
    return generation.new_version(
        session,
        collab.store,
        contract=session.get_one(Contract, row.contract_id),
        reason=row.reason,
        vendor=settings.vendor,
        now=collab.now,
        actor=actor_of(row),
        author_id=row.author_id,
        quote=get_quote(session, row.quote_id) if row.quote_id is not None else None,
        templates_dir=settings.contract_templates_dir,
        clauses=clauses,
        free_text=row.free_text,
        based_on=row.based_on,
        signer=asked_signer(row),
    )


def fulfil(collab: Collaborators, generation_id: int) -> GenerationStatus:
    """The job's work: render the pending generation in one transaction with the row that
    says it is done. A generation no longer pending is left alone (a job run twice). A version
    made meanwhile by another path (the API, a colleague) marks it done with that contract;
    a refusal (the quote expired meanwhile) marks it failed with the reason: retrying would
    change nothing. Anything else (a rendering crash) is counted on the row and propagates, so
    the queue retries; at `MAX_RENDER_ATTEMPTS` crashes the generation is failed instead, and
    neither the queue nor the sweep runs it again."""
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
    except AlreadyInContract as exc:
        return _finish(collab, generation_id, GenerationStatus.DONE, exc.detail, exc.contract_id)
    except DomainError as exc:
        return _finish(collab, generation_id, GenerationStatus.FAILED, exc.detail, None)
    except Exception:
        if _count_crash(collab, generation_id) is GenerationStatus.FAILED:
            log.exception("génération %s abandonnée après des échecs répétés", generation_id)
            return GenerationStatus.FAILED
        raise


def _count_crash(collab: Collaborators, generation_id: int) -> GenerationStatus:
    """One more crashed render, under the row's lock (two workers crashing at once count
    two); the last one allowed fails the generation."""
    with transaction(collab.session_factory) as session:
        row = get_generation(session, generation_id, lock=True)
        if row.status is not GenerationStatus.PENDING:
            return row.status
        row.render_attempts += 1
        if row.render_attempts >= MAX_RENDER_ATTEMPTS:
            row.status = GenerationStatus.FAILED
            row.problem = GAVE_UP.format(attempts=row.render_attempts)
            row.finished_at = collab.now
        return row.status


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


def state_of(session: Session, generation_id: int, now: datetime) -> GenerationState:
    row = get_generation(session, generation_id)
    if row.status is GenerationStatus.PENDING:
        what = "du contrat" if row.first_version else "de la nouvelle version"
        message = f"Génération {what} en cours…"
        # Never tried by a worker after this long: without a word, the page would say "en
        # cours" for as long as no worker runs (the job waits in the queue, unrecorded).
        if row.render_attempts == 0 and row.requested_at < now - LOST_AFTER:
            minutes = int(LOST_AFTER.total_seconds() // 60)
            message = (
                f"Génération {what} en attente depuis plus de {minutes} minutes : le service "
                "des travaux en arrière-plan ne l'a pas encore prise en charge. Elle se fera "
                "dès qu'il tournera de nouveau ; si l'attente dure, prévenez un administrateur."
            )
        return GenerationState(row.status.value, message, None, made=False)
    if row.status is GenerationStatus.FAILED:
        what = "impossible" if row.render_attempts >= MAX_RENDER_ATTEMPTS else "refusée"
        return GenerationState(
            row.status.value, f"Génération {what} : {row.problem}", None, made=False
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
