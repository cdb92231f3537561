"""Contracts' background jobs.

- `contracts.generate`: version 1 of a quote's contract, one job per quote (enqueued by
  `paraphe contracts bulk`). Idempotent: a quote already contracted is skipped
  (`bulk.generate_for_quote`).
- `contracts.generate_requested`: a version asked for on the web (`requested.fulfil`): the
  sales request answers at once and its page follows the job. Idempotent: the job renders
  only a generation still pending, under its row lock.
- `contracts.sweep`: every 5 minutes, enqueues again the generations whose job was lost, not
  one whose job is running or waiting for its retry."""

from __future__ import annotations

import logging

from app.contracts import bulk, requested
from app.queue.context import collaborators
from app.queue.tasks import Priority, job, periodic

log = logging.getLogger(__name__)

LOST_AFTER = requested.LOST_AFTER
"""A generation pending this long lost its job (its page says it waits from then on)."""


# The bulk command's contracts, one job per quote.
@job("contracts.generate", priority=Priority.LOW)
def generate(quote_id: int, author_id: int, clause_version_ids: list[int], run: str) -> None:
    result = bulk.generate_for_quote(
        collaborators(),
        quote_id,
        author_id=author_id,
        clause_version_ids=clause_version_ids,
        run=run,
    )
    log.info("%s : %s", result.outcome.value, result.line)


# The sales user's page follows the generation's progress.
@job("contracts.generate_requested", priority=Priority.NORMAL)
def generate_requested(generation_id: int) -> None:
    status = requested.fulfil(collaborators(), generation_id)
    log.info("génération %s : %s", generation_id, status.value)


@periodic("contracts.sweep", minute="*/5")
def sweep() -> None:
    collab = collaborators()
    # `enqueue_again`, not `enqueue`: a generation whose job waits for its retry (a full disk
    # for a moment) is not lost; a second job would count its failures twice and, inline,
    # leave one more failed run on the admins' page at every sweep.
    for generation_id in requested.pending_since(collab, collab.now - LOST_AFTER):
        generate_requested.enqueue_again(generation_id)
