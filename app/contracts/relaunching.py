"""The admins' « Relancer » (« Travaux en échec », `app.job_runs`) of a generation's job
(`contracts.generate_requested`).

Enqueuing that job again with its recorded argument renders a generation still pending; one
that failed meanwhile (its renders given up, or refused) would be left as it is, the job
ending at once. So a failed generation is asked again by the contract page's own retry
(`requested.ask_again`: a new generation, the failed one kept as it ended), for whoever first
asked it (the admins neither sell nor sign in anyone's name), and the job renders that one.
A generation done, or failed and asked again already, leaves nothing to relaunch: the page
says why instead of offering the button."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.contracts.errors import ContractRefused
from app.contracts.models import ContractGeneration, GenerationStatus
from app.contracts.requested import ask_again, get_generation
from app.messages import msg
from app.runtime import Collaborators


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
