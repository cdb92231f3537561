"""Bulk contract generation, one quote per job (`contracts.generate`, enqueued by
`paraphe contracts bulk`): each contract in its own transaction, exactly as the web form
does it (same service, same checks, same audit entry).

Idempotent: a quote already contracted is skipped (`generate_contract` re-checks under the
quote's row lock, so two jobs for one quote make one contract). A refusal (a quote expired
meanwhile) is journaled with the run it belongs to, so that the command waiting for the run
can report it whichever process ran the job; nothing is retried, since nothing would change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select

from app.audit import services as audit
from app.audit.models import AuditEvent
from app.auth.models import User
from app.clauses.services import get_versions
from app.contracts import generation, printing
from app.contracts.errors import QuoteAlreadyContracted
from app.contracts.models import Contract
from app.db import transaction
from app.errors import DomainError
from app.quotes.models import Quote
from app.quotes.services import get_quote
from app.runtime import Collaborators

REFUSED_ACTION = "contract.bulk_refused"


class Outcome(StrEnum):
    GENERATED = "generated"
    SKIPPED = "skipped"  # already contracted: nothing done
    REFUSED = "refused"


@dataclass(frozen=True)
class QuoteResult:
    outcome: Outcome
    line: str
    """`DEV-… → CTR-…`, or `DEV-… : why` for a refusal."""


def generate_for_quote(
    collab: Collaborators,
    quote_id: int,
    *,
    author_id: int,
    clause_version_ids: Sequence[int] = (),
    run: str = "",
) -> QuoteResult:
    """Version 1 of the contract of `quote_id`, authored by `author_id`, unless the quote is
    contracted already; a refusal is journaled under `run`."""
    with transaction(collab.session_factory) as session:
        quote = get_quote(session, quote_id)
        number = quote.number
        author = session.get_one(User, author_id)
        try:
            version = generation.generate_contract(
                session,
                collab.store,
                quote=quote,
                vendor=collab.settings.vendor,
                now=collab.now,
                actor=f"user:{author.id}",
                author_id=author.id,
                templates_dir=collab.settings.contract_templates_dir,
                clauses=get_versions(session, clause_version_ids),
                countersigner=printing.Countersigner.for_vendor(
                    collab.settings.vendor, author.full_name, author.email, author.title
                ),
            )
            return QuoteResult(Outcome.GENERATED, f"{number} → {version.contract.number}")
        except QuoteAlreadyContracted as exc:
            return QuoteResult(Outcome.SKIPPED, f"{number} : {exc}")
        except DomainError as exc:
            refusal = f"{number} : {exc}"
    with transaction(collab.session_factory) as session:
        audit.record(
            session,
            now=collab.now,
            actor=f"user:{author_id}",
            action=REFUSED_ACTION,
            subject_type="quote",
            subject_id=quote_id,
            details={"run": run, "line": refusal},
        )
    return QuoteResult(Outcome.REFUSED, refusal)


@dataclass(frozen=True)
class RunProgress:
    generated: list[str]
    refused: list[str]

    @property
    def done(self) -> int:
        return len(self.generated) + len(self.refused)


def progress(collab: Collaborators, quote_ids: Sequence[int], run: str) -> RunProgress:
    """Where a bulk run stands: its quotes contracted (`DEV-… → CTR-…`), and the refusals
    journaled under `run` (what the command shows while the queue's workers generate)."""
    with transaction(collab.session_factory) as session:
        contracts = session.execute(
            select(Quote.number, Contract.number)
            .join(Contract, Contract.quote_id == Quote.id)
            .where(Quote.id.in_(quote_ids))
            .order_by(Contract.id)
        ).all()
        refusals = session.scalars(
            select(AuditEvent.details).where(
                AuditEvent.action == REFUSED_ACTION,
                AuditEvent.subject_type == "quote",
                AuditEvent.subject_id.in_([str(q) for q in quote_ids]),
            )
        ).all()
    refused = [d["line"] for d in map(json.loads, refusals) if d.get("run") == run]
    return RunProgress([f"{quote} → {contract}" for quote, contract in contracts], refused)


def already_contracted(collab: Collaborators, quote_ids: Sequence[int]) -> set[int]:
    """The quotes of `quote_ids` that have their contract: a bulk run skips them."""
    with transaction(collab.session_factory) as session:
        return set(
            session.scalars(select(Contract.quote_id).where(Contract.quote_id.in_(quote_ids)))
        )
