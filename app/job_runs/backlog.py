"""How many jobs wait in the broker: what `/sante` reports and what the admins' page of
failed jobs shows beside the workers' liveness."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app.queue.broker import huey, is_inline

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backlog:
    inline: bool
    """Jobs run in the process that asks for them: no queue, no worker to wait for."""
    waiting: int | None
    """Jobs waiting for a worker; None when the broker did not answer (or inline)."""

    @property
    def unreachable(self) -> bool:
        return not self.inline and self.waiting is None


def backlog() -> Backlog:
    if is_inline():
        return Backlog(inline=True, waiting=None)
    try:
        waiting = int(huey.pending_count())
    except Exception:  # SQLite, psycopg or redis errors: the brokers share no base class
        log.warning("la file des travaux ne répond pas", exc_info=True)
        return Backlog(inline=False, waiting=None)
    return Backlog(inline=False, waiting=waiting)
