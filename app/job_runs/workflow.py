"""Relaunching a failed job: claim its row, enqueue the declared job again with the recorded
arguments, and give the row back if the queue refused it. Safe to repeat: the claim lets one
click through, and every job is idempotent (the database says what is already done).

A job whose argument names a row holding the state of its work (a contract generation) is
relaunched through that row: enqueued again as it was, it would end at once on work that
failed for good meanwhile, and the click would change nothing. Such a run whose work settled
since leaves the admins' list; one with nothing to relaunch that did not settle can be taken
off it by an admin (« Retirer de la liste »)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from app.audit import services as audit
from app.contracts import retrying, tasks
from app.db import transaction
from app.errors import DomainError
from app.job_runs import runs
from app.job_runs.models import JobRun
from app.queue.tasks import UnknownJob, declared
from app.runtime import Collaborators

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Relaunch:
    name: str | None  # the job enqueued again; None when there was nothing to relaunch
    problem: str | None = None  # in French, for the page


@dataclass(frozen=True)
class WorkRow:
    """How a job whose first argument is the id of its work's row is relaunched."""

    nothing_to_do: Callable[[Session, int], str | None]
    """Why a relaunch would do nothing (the page shows it instead of the button), or None."""
    row_to_work_on: Callable[[Session, Collaborators, int], int]
    """The row the job is enqueued again for, in the claim's transaction; raises a
    DomainError (the reason, in French) when there is none."""
    settled: Callable[[Session, int], bool]
    """Whether the work is done, or under way again without the admins (a newer attempt of
    it, with its own run): a failed run of it then needs nobody."""


_WORK_ROWS: dict[str, WorkRow] = {
    tasks.generate_requested.name: WorkRow(
        retrying.nothing_to_relaunch, retrying.generation_to_render, retrying.settled
    ),
}


def needing_attention(session: Session) -> list[JobRun]:
    """The failed and interrupted runs an admin has something to do about, the latest first:
    not those whose work settled since. Filtered here, at each reading, rather than marked
    when the work settles: it settles where nothing knows of job runs (a render, a retry from
    the contract page, a sweep), and a reading of the work's own row cannot go stale. The
    run's row stays as it ended (it did fail); the list holds few rows, one or two reads each."""
    return [run for run in runs.needing_attention(session) if not _settled(session, run)]


def _settled(session: Session, run: JobRun) -> bool:
    work = _WORK_ROWS.get(run.name)
    return work is not None and work.settled(session, run.args[0])


def _nothing_to_do(session: Session, run: JobRun) -> str | None:
    work = _WORK_ROWS.get(run.name)
    return work.nothing_to_do(session, run.args[0]) if work is not None else None


def nothing_to_relaunch(session: Session, failed: Sequence[JobRun]) -> dict[int, str]:
    """Of these failed runs, those a relaunch would do nothing for, with why (by run id)."""
    reasons = {}
    for run in failed:
        reason = _nothing_to_do(session, run)
        if reason is not None:
            reasons[run.id] = reason
    return reasons


class Dismissal(StrEnum):
    DISMISSED = "dismissed"
    NOT_LISTED = "not_listed"  # dismissed or relaunched already (a second click), or not failed
    RELAUNCHABLE = "relaunchable"  # a relaunch would still do something: « Relancer » is its way


def dismiss(session: Session, run_id: int, *, actor: str, now: datetime) -> Dismissal:
    """Take a failed run with nothing left to relaunch off the admins' list, in the caller's
    transaction, journaled with who and when. Under the run's row lock: of twenty clicks at
    once, one dismisses and journals it, the others find it dismissed."""
    run = runs.locked_if_failed(session, run_id)
    if run is None:
        return Dismissal.NOT_LISTED
    reason = _nothing_to_do(session, run)
    if reason is None:
        return Dismissal.RELAUNCHABLE
    previous = run.status
    runs.dismiss(run, now)
    audit.record(
        session,
        now=now,
        actor=actor,
        action="job_run.dismissed",
        subject_type="job_run",
        subject_id=run.id,
        details={"job": run.name, "args": run.args, "status": previous.value, "reason": reason},
    )
    return Dismissal.DISMISSED


def _arguments_again(session: Session, collab: Collaborators, claim: runs.Claim) -> list[Any]:
    work = _WORK_ROWS.get(claim.name)
    if work is None:
        return claim.args
    return [work.row_to_work_on(session, collab, claim.args[0]), *claim.args[1:]]


def relaunch(collab: Collaborators, run_id: int) -> Relaunch:
    try:
        with transaction(collab.session_factory) as session:
            claim = runs.claim_relaunch(session, run_id, collab.now)
            if claim is None:
                return Relaunch(None)
            args = _arguments_again(session, collab, claim)
    except DomainError as exc:  # the work's row refused: the claim is undone with the rest
        return Relaunch(None, exc.detail)
    try:
        # Inline (tests, one-off commands), the job runs here, now, and records its own run.
        declared(claim.name).enqueue(*args, **claim.kwargs)
    except Exception as exc:  # the brokers' errors (redis, sqlite3, psycopg) share no base
        log.warning("job run %s (%s) not relaunched: %r", run_id, claim.name, exc)
        with transaction(collab.session_factory) as session:
            runs.release_relaunch(session, claim)
        problem = (
            f"Le travail « {claim.name} » n'existe plus dans cette version de Paraphe."
            if isinstance(exc, UnknownJob)
            else "La file de travaux est injoignable ; réessayez dans un instant."
        )
        return Relaunch(claim.name, problem)
    return Relaunch(claim.name)
