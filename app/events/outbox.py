"""After a commit that recorded events, ask for their dispatch at once; a rollback forgets
them. The one thing to call is installed by the application factory (`install`): this package
does not know what delivers events (the webhooks, above every feature)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.events.recording import PENDING_KEY

log = logging.getLogger(__name__)

_notify: Callable[[], None] | None = None
_DUE_KEY = "app.events.outbox.due"


def install(notify: Callable[[], None]) -> None:
    """Call `notify` after each commit that recorded at least one event. Idempotent: the
    listeners are registered once per process, the last `notify` wins."""
    global _notify
    first = _notify is None
    _notify = notify
    if first:
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
        event.listen(Session, "after_transaction_end", _after_transaction_end)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        # A savepoint released (an idempotent insert, e.g. a mail of the outbox): the outer
        # transaction, and the write lock SQLite gives it, goes on. Dispatching now would
        # run (inline) jobs that wait for that lock, in the thread that holds it.
        return
    if session.info.pop(PENDING_KEY, False):
        session.info[_DUE_KEY] = True


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # After the commit's connection went back to the pool: inline, the dispatch job opens
    # its own, and twenty threads committing at once must not each hold two.
    if transaction.parent is not None or not session.info.pop(_DUE_KEY, False):
        return
    if _notify is None:
        return
    try:
        _notify()
    except Exception:
        # The change is committed and its events with it: the periodic sweep dispatches them
        # if the queue could not be reached now. A broker outage must not fail the request.
        log.exception("events committed, dispatch not enqueued: the sweep will send them")


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
