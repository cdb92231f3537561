"""The archive's background jobs: a client's restitution archive (built, sealed, archived,
then its download link mailed) and the daily retention purge (formerly a cron line running
`paraphe jobs purge`, which calls the same function).

One archive and one mail per request: `workflow.fulfil_restitution` re-checks the request
under its row lock before it creates the link, and `build_restitution` records one archive
per state of the client's data. The purge is resumable and idempotent by construction
(`archive.jobs`)."""

from __future__ import annotations

import logging

from app.archive import workflow
from app.archive.jobs import run_purge
from app.clock import business_date
from app.db import utcnow
from app.queue.context import collaborators, runtime
from app.queue.tasks import Priority, job, periodic
from app.rendering.french import plural

log = logging.getLogger(__name__)


class PurgeIncomplete(Exception):
    """Raised so that the queue records the run as failed: a certificate was not sent."""


# A terminated client's archive, mailed when ready.
@job("archive.build_restitution", priority=Priority.LOW)
def build_restitution(request_id: int) -> None:
    workflow.fulfil_restitution(collaborators(), request_id)


@periodic("archive.purge", minute="15", hour="2")
def purge() -> None:
    """Every day at 02:15 UTC: what has outlived its retention period is deleted, certified
    and the certificates sent."""
    now = utcnow()
    report = run_purge(runtime(), today=business_date(now), now=now, dry_run=False)
    log.info(
        "%s, %s",
        plural(len(report.deleted), "document supprimé", "documents supprimés"),
        plural(len(report.certificates), "certificat émis", "certificats émis"),
    )
    if report.damaged:
        raise PurgeIncomplete("; ".join(report.damaged))
