"""The journal's periodic job: its head anchored every hour (formerly a cron line running
`paraphe audit anchor`, which calls the same function)."""

from __future__ import annotations

import logging

from app.audit import workflow
from app.queue.context import collaborators
from app.queue.tasks import periodic

log = logging.getLogger(__name__)


class AnchorFailed(Exception):
    """Raised so that the queue records the failed run (the next hour tries again)."""


@periodic("audit.anchor", minute="0")
def anchor() -> None:
    outcome = workflow.anchor(collaborators())
    if outcome.failed:
        raise AnchorFailed(outcome.message)
    log.info("%s", outcome.message)
