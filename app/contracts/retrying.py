"""A failed generation asked again: from its page by a salesperson (`ask_again`), or through
the admins' « Relancer » (« Travaux en échec », `app.job_runs`) of its job
(`contracts.generate_requested`).

Enqueuing that job again with its recorded argument renders a generation still pending; one
that failed meanwhile (its renders given up, or refused) would be left as it is, the job
ending at once. So a failed generation is asked again by the contract page's own retry
(`ask_again`: a new generation, the failed one kept as it ended), for whoever first
asked it (the admins neither sell nor sign in anyone's name), and the job renders that one.
A generation done, or failed and asked again already, leaves nothing to relaunch: the page
says why instead of offering the button."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.contracts.errors import ContractRefused
from app.contracts.models import Contract, ContractGeneration, GenerationStatus
from app.contracts.requested import (
    Choices,
    ask_first_version,
    ask_new_version,
    asked_signer,
    get_generation,
)
from app.messages import msg
from app.quotes.services import get_quote
from app.runtime import Collaborators
from app.vendor_settings import VendorIdentity


def _pair(name: str | None, email: str | None) -> tuple[str, str] | None:
    return (name, email) if name is not None and email is not None else None


def ask_again(
    session: Session,
    generation_id: int,
    author_id: int | None,
    *,
    vendor: VendorIdentity,
    now: datetime,
    token_id: int | None = None,
) -> ContractGeneration:
    """A failed generation asked again, from its page by the user who clicked, or by the
    admins' « Relancer » for whoever first asked (`token_id` for an API token): a new
    generation (the failed one stays as it ended), with exactly what was first asked: the
    clauses, the free text, the client's signer and the vendor's countersigner (the one an
    API body named, or the first asker's rule: see `requested._countersigner`). One not failed is
    answered as it is (a second click: its page shows where it stands)."""
    row = get_generation(session, generation_id)
    if row.status is not GenerationStatus.FAILED:
        return row
    choices = Choices(
        author_id=author_id,
        token_id=token_id,
        clause_version_ids=row.clause_version_ids,
        free_text=row.free_text,
        countersigner=_pair(row.countersigner_name, row.countersigner_email),
        signer=asked_signer(row),
        retry_of=row.retry_of if row.retry_of is not None else row.id,
    )
    quote = get_quote(session, row.quote_id) if row.quote_id is not None else None
    if row.first_version:
        assert quote is not None  # a version 1 is asked for a quote
        return ask_first_version(session, quote, choices, vendor=vendor, now=now)
    assert row.contract_id is not None  # a version n+1 is asked for a contract
    return ask_new_version(
        session,
        session.get_one(Contract, row.contract_id),
        choices,
        vendor=vendor,
        reason=row.reason,
        based_on=row.based_on,
        quote=quote,
        now=now,
    )


def nothing_to_relaunch(session: Session, generation_id: int) -> str | None:
    """Why relaunching the generation's job would do nothing, in French; None when it would
    render it (still pending) or ask it again (failed, not retried yet)."""
    row = session.get(ContractGeneration, generation_id)
    if row is None:
        return msg(
            "Génération de contrat n° {generation_id} introuvable.", generation_id=generation_id
        )
    if row.status is GenerationStatus.DONE:
        return msg(
            "Génération de contrat n° {generation_id} déjà terminée : rien à relancer.",
            generation_id=generation_id,
        )
    retry = _later_retry(session, row)
    if retry is not None:
        return msg(
            "Génération de contrat n° {generation_id} déjà relancée (génération n° {retry_id}).",
            generation_id=generation_id,
            retry_id=retry,
        )
    return None


def settled(session: Session, generation_id: int) -> bool:
    """Whether the generation's work is done or under way without anyone's help: the
    generation done, or asked again and its latest retry done or pending (its own job renders
    it, its own failed run says so). A failed run of its job then needs no admin."""
    row = session.get(ContractGeneration, generation_id)
    if row is None:
        return False
    if row.status is GenerationStatus.DONE:
        return True
    retry = _later_retry(session, row)
    return retry is not None and session.get_one(ContractGeneration, retry).status in (
        GenerationStatus.DONE,
        GenerationStatus.PENDING,
    )


def _later_retry(session: Session, row: ContractGeneration) -> int | None:
    """The latest generation asked again after this failed one (from its page, or by a
    relaunch), if any: each retry names the generation first asked (`retry_of`)."""
    if row.status is not GenerationStatus.FAILED:
        return None
    first = row.retry_of if row.retry_of is not None else row.id
    return session.scalar(
        select(ContractGeneration.id)
        .where(ContractGeneration.retry_of == first, ContractGeneration.id > row.id)
        .order_by(ContractGeneration.id.desc())
        .limit(1)
    )


def generation_to_render(session: Session, collab: Collaborators, generation_id: int) -> int:
    """The generation the relaunched job renders: this one if still pending, else this failed
    one asked again. Checked under the generation's row lock, so that of two relaunches of
    its jobs at once (two failed runs of it), the second finds the first's retry and is
    refused. Raises ContractRefused with `nothing_to_relaunch`'s reason, and what `ask_again`
    refuses (the quote expired, or contracted meanwhile)."""
    row = get_generation(session, generation_id, lock=True)
    reason = nothing_to_relaunch(session, generation_id)
    if reason is not None:
        raise ContractRefused(reason)
    if row.status is GenerationStatus.PENDING:
        return row.id
    again = ask_again(
        session,
        row.id,
        row.author_id,
        token_id=row.token_id,
        vendor=collab.settings.vendor,
        now=collab.now,
    )
    return again.id
