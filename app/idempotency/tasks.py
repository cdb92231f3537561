"""The hourly purge of idempotency keys past their 24 hours."""

from __future__ import annotations

import logging

from app.db import transaction
from app.idempotency import services
from app.queue.context import collaborators
from app.queue.tasks import periodic

log = logging.getLogger(__name__)


@periodic("idempotency.purge", minute="41")
def purge() -> None:
    collab = collaborators()
    with transaction(collab.session_factory) as session:
        deleted = services.purge(session, now=collab.now)
    log.info("%d expired idempotency key(s) purged", deleted)
