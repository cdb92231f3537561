"""The job that keeps `job_runs` small: the runs that went well are kept a day."""

from __future__ import annotations

import logging

from app.db import transaction
from app.job_runs import runs
from app.queue.context import collaborators
from app.queue.tasks import periodic

log = logging.getLogger(__name__)


@periodic("job_runs.prune", minute="23")
def prune() -> None:
    collab = collaborators()
    with transaction(collab.session_factory) as session:
        deleted = runs.prune(session, collab.now)
    log.info("%d completed job run(s) pruned", deleted)
