"""The period's billing run asked for on the plans page: what it would do (the preview, read
only), the run asked for (one open run per period) and its report.

The preview asks the very functions the run bills with (``issuing.period_invoice_lines``,
``issuing.invoiced_lines``, ``plans.billed``): the amounts it shows are those the run would
invoice, totalled by ``app.pricing``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import DomainError, FieldErrors
from app.invoices import issuing, plans, rules
from app.invoices.errors import InvoiceNotFound
from app.invoices.models import BillingPlan, BillingRun, BillingRunStatus, Invoice
from app.messages import msg


class PeriodInvalidField(FieldErrors):
    """The period typed on the plans page is not a month (AAAA-MM): refused on its field."""


def parse_period(text: str | None) -> rules.Period:
    """The period typed on the plans page; raises on its field ``period`` otherwise."""
    parsed = rules.Period.parse((text or "").strip())
    if parsed is None:
        raise PeriodInvalidField(
            {"period": msg("Indiquez une période au format AAAA-MM (ex. 2026-12).")}
        )
    return parsed


class Outcome(StrEnum):
    TO_ISSUE = "to_issue"
    BILLED = "billed"  # « déjà facturée »
    NOTHING_DUE = "nothing_due"  # « rien à facturer »
    REFUSED = "refused"  # the run would refuse it, for the reason given


@dataclass(frozen=True)
class PlanPreview:
    plan: BillingPlan
    outcome: Outcome
    total_excl_vat: Decimal | None = None
    total_incl_vat: Decimal | None = None
    invoice: Invoice | None = None  # the period's invoice, when already billed
    reason: str | None = None


@dataclass(frozen=True)
class PeriodPreview:
    period: rules.Period
    rows: tuple[PlanPreview, ...]
    last_run: BillingRun | None  # the latest run of the period asked for on the page

    @property
    def to_issue(self) -> int:
        return sum(1 for row in self.rows if row.outcome is Outcome.TO_ISSUE)


def preview_period(session: Session, period: rules.Period) -> PeriodPreview:
    """What a run of ``period`` would do for each active plan, in the order it bills them;
    nothing is written nor locked. A client's pending charges go on its first invoice of the
    run, as the run bills them."""
    rows: list[PlanPreview] = []
    charged: set[int] = set()  # clients whose pending charges an earlier row already carries
    for plan in plans.active_plans(session):
        invoice = _period_invoice(session, plan.id, str(period))
        if invoice is not None:
            rows.append(PlanPreview(plan, Outcome.BILLED, invoice=invoice))
            continue
        try:
            _contract, lines = issuing.period_invoice_lines(session, plan, period)
        except DomainError as exc:
            rows.append(PlanPreview(plan, Outcome.REFUSED, reason=exc.detail))
            continue
        if not lines:
            rows.append(PlanPreview(plan, Outcome.NOTHING_DUE))
            continue
        billed = issuing.invoiced_lines(
            session, plan.client, lines, lock=False, with_pending=plan.client_id not in charged
        )
        if billed.problems:
            reason = " ; ".join(billed.problems.values())
            rows.append(PlanPreview(plan, Outcome.REFUSED, reason=reason))
            continue
        charged.add(plan.client_id)
        totals = billed.totals
        rows.append(
            PlanPreview(plan, Outcome.TO_ISSUE, totals.total_excl_vat, totals.total_incl_vat)
        )
    last_run = session.scalars(
        select(BillingRun)
        .where(BillingRun.period == str(period))
        .order_by(BillingRun.id.desc())
        .limit(1)
    ).first()
    return PeriodPreview(period, tuple(rows), last_run)


def _period_invoice(session: Session, plan_id: int, period: str) -> Invoice | None:
    if not plans.billed(session, plan_id, period):
        return None
    return session.scalars(
        select(Invoice).where(Invoice.plan_id == plan_id, Invoice.period == period)
    ).one()


def request_run(
    session: Session, period: rules.Period, *, requested_by_id: int | None, now: datetime
) -> tuple[BillingRun, bool]:
    """The run of ``period``, asked for now; or the one already asked for and not finished
    (a double click, a second tab), which the unique index on open runs keeps single. Whether
    it is new (its job is then to be enqueued, after the commit)."""
    run = BillingRun(
        period=str(period),
        status=BillingRunStatus.QUEUED,
        requested_by_id=requested_by_id,
        requested_at=now,
        issued_numbers=[],
        refused=[],
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        return _open_run(session, str(period)), False
    return run, True


def _open_run(session: Session, period: str) -> BillingRun:
    return session.scalars(
        select(BillingRun).where(BillingRun.period == period, BillingRun.finished_at.is_(None))
    ).one()


def get_run(session: Session, run_id: int) -> BillingRun:
    run = session.get(BillingRun, run_id)
    if run is None:
        raise InvoiceNotFound(msg("Facturation n° {run_id} introuvable.", run_id=run_id))
    return run


LEASE = timedelta(minutes=30)
"""How long a started run is its job's: past it, that job is taken for dead (a worker killed)
and the run may be taken again, by the run's job enqueued again (a click on the page)."""


def start(session: Session, run_id: int, now: datetime) -> str | None:
    """Take the run for this job, under its row lock: its period, or None when another job
    has it (a second click's job, while the first runs) or it is finished (a retry after the
    end). One job at a time reports on a run."""
    run = session.scalars(
        select(BillingRun).where(BillingRun.id == run_id).with_for_update()
    ).one_or_none()
    if run is None or run.status is BillingRunStatus.DONE:
        return None
    started = run.started_at
    if run.status is BillingRunStatus.RUNNING and started is not None and now - started < LEASE:
        return None
    run.status = BillingRunStatus.RUNNING
    run.started_at = now
    return run.period


STALLED_AFTER = timedelta(minutes=5)
"""How long a run may wait for its job before the sweep takes that job for lost (a broker
flushed, retries exhausted) and enqueues it again; far more than a queue's usual delay."""


def stalled(session: Session, now: datetime) -> list[int]:
    """The unfinished runs whose job is lost: still waiting `STALLED_AFTER` after they were
    asked for, or taken by a job whose lease ran out (its worker killed). Enqueuing such a
    run again is safe: `start` lets one job have it, and a finished run is left alone."""
    waiting = (BillingRun.status == BillingRunStatus.QUEUED) & (
        BillingRun.requested_at <= now - STALLED_AFTER
    )
    abandoned = (BillingRun.status == BillingRunStatus.RUNNING) & (
        BillingRun.started_at <= now - LEASE
    )
    return list(
        session.scalars(
            select(BillingRun.id)
            .where(BillingRun.finished_at.is_(None), waiting | abandoned)
            .order_by(BillingRun.id)
        )
    )


def give_back(session: Session, run_id: int, *, issued: Sequence[str]) -> None:
    """The job failed after issuing ``issued`` (the queue retries it): the run waits for it
    again, and keeps those numbers for its report."""
    run = session.scalars(select(BillingRun).where(BillingRun.id == run_id).with_for_update()).one()
    if run.status is BillingRunStatus.RUNNING:
        run.status = BillingRunStatus.QUEUED
        run.issued_numbers = [*run.issued_numbers, *issued]


def finish(
    session: Session,
    run_id: int,
    *,
    issued: Sequence[str],
    already_billed: int,
    nothing_due: int,
    refused: Sequence[str],
    now: datetime,
) -> None:
    """Record the run's report; the period may be run again from now on. The plans an
    earlier, failed attempt of the run billed are among those this one found billed: they
    are counted as issued by the run, once."""
    run = session.scalars(select(BillingRun).where(BillingRun.id == run_id).with_for_update()).one()
    earlier = run.issued_numbers
    run.status = BillingRunStatus.DONE
    run.finished_at = now
    run.issued_numbers = [*earlier, *issued]
    run.already_billed = max(already_billed - len(earlier), 0)
    run.nothing_due = nothing_due
    run.refused = list(refused)


def issued_invoices(session: Session, run: BillingRun) -> list[Invoice]:
    """The invoices the run issued, in the order it issued them (their links on its page)."""
    if not run.issued_numbers:
        return []
    found = session.scalars(select(Invoice).where(Invoice.number.in_(run.issued_numbers))).all()
    by_number = {invoice.number: invoice for invoice in found}
    return [by_number[n] for n in run.issued_numbers if n in by_number]


POLL_SECONDS = 2


@dataclass(frozen=True)
class RunProgress:
    """Where a run stands, as its page shows it: its invoices once issued; ``poll_after``,
    the seconds after which the page asks again, None once the run is finished."""

    run: BillingRun
    invoices: list[Invoice]
    poll_after: int | None


def progress_of(session: Session, run_id: int) -> RunProgress:
    run = get_run(session, run_id)
    if run.status is BillingRunStatus.DONE:
        return RunProgress(run, issued_invoices(session, run), None)
    return RunProgress(run, [], POLL_SECONDS)
