"""After a commit that recorded events, ask for their dispatch at once; a rollback forgets
them. The one thing to call is installed by the application factory (`install`): this package
does not know what delivers events (the webhooks, above every feature)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.events.recording import PENDING_KEY

log = logging.getLogger(__name__)

_notify: Callable[[], None] | None = None


def install(notify: Callable[[], None]) -> None:
    """Call `notify` after each commit that recorded at least one event. Idempotent: the
    listeners are registered once per process, the last `notify` wins."""
    global _notify
    first = _notify is None
    _notify = notify
    if first:
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        # A savepoint released (an idempotent insert, e.g. a mail of the outbox): the outer
        # transaction, and the write lock SQLite gives it, goes on. Dispatching now would
        # run (inline) jobs that wait for that lock, in the thread that holds it.
        return
    if not session.info.pop(PENDING_KEY, False) or _notify is None:
        return
    try:
        _notify()
    except Exception:
        # The change is committed and its events with it: the periodic sweep dispatches them
        # if the queue could not be reached now. A broker outage must not fail the request.
        log.exception("events committed, dispatch not enqueued: the sweep will send them")


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
