"""The backup's periodic job. It runs every hour and names the slot of the configured interval
(PARAPHE_BACKUP_INTERVAL_HOURS, 24 by default): the first run of each interval makes the
backup, every other run of it (the next hours, a second scheduler, a retry) finds the slot
taken in the database and does nothing. A failure raises, so the admins' failed-jobs page
lists it; so does a backup older than the interval (late), checked by the same job."""

from __future__ import annotations

import logging

from app.backups import workflow
from app.backups.services import lateness
from app.db import transaction
from app.queue.context import collaborators
from app.queue.tasks import periodic

log = logging.getLogger(__name__)


class BackupLate(Exception):
    """Raised so that the queue records the run as failed: no recent backup."""


@periodic("backups.run", minute="30")
def run() -> None:
    collab = collaborators()
    interval = collab.settings.backup.interval_hours
    outcome = workflow.backup(collab, slot=workflow.slot_of(collab.now, interval))
    log.info("%s", outcome.message)
    with transaction(collab.session_factory) as session:
        late = lateness(session, collab.now, interval)
    if late is not None:
        raise BackupLate(late)
