"""Contracts' background job: version 1 of a quote's contract, one job per quote (enqueued by
`paraphe contracts bulk`). Idempotent: a quote already contracted is skipped
(`bulk.generate_for_quote`)."""

from __future__ import annotations

import logging

from app.contracts import bulk
from app.queue.context import collaborators
from app.queue.tasks import job

log = logging.getLogger(__name__)


@job("contracts.generate")
def generate(quote_id: int, author_id: int, clause_version_ids: list[int], run: str) -> None:
    result = bulk.generate_for_quote(
        collaborators(),
        quote_id,
        author_id=author_id,
        clause_version_ids=clause_version_ids,
        run=run,
    )
    log.info("%s : %s", result.outcome.value, result.line)
