"""Relaunching a failed job: claim its row, enqueue the declared job again with the recorded
arguments, and give the row back if the queue refused it. Safe to repeat: the claim lets one
click through, and every job is idempotent (the database says what is already done)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app.db import transaction
from app.job_runs import runs
from app.queue.tasks import UnknownJob, declared
from app.runtime import Collaborators

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Relaunch:
    name: str | None  # the job enqueued again; None when there was nothing to relaunch
    problem: str | None = None  # in French, for the page


def relaunch(collab: Collaborators, run_id: int) -> Relaunch:
    with transaction(collab.session_factory) as session:
        claim = runs.claim_relaunch(session, run_id, collab.now)
    if claim is None:
        return Relaunch(None)
    try:
        # Inline (tests, one-off commands), the job runs here, now, and records its own run.
        declared(claim.name).enqueue(*claim.args, **claim.kwargs)
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
