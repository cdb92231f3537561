"""The monthly billing run: every invoice due for a period, from the active billing plans.

Each plan is billed in its own short transaction (number taken and invoice inserted
together), then its Factur-X PDF is rendered outside any transaction and archived in a
later one (``workflow.pdf_producer``: rendering overlaps the issuing of the next plans).
``issue_period`` (the command) only issues and hands each invoice to the job queue, whose
workers produce the PDFs; ``run_period`` produces them here, in a pipeline (the tests and
the benchmark's in-process path).
Running the same period again issues nothing twice: a billed (plan, period) is
skipped, and the unique constraint on (plan, period) settles a race between two runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from app.db import transaction, utcnow
from app.errors import DomainError
from app.invoices import billing_runs, issuing, payments, plans, workflow
from app.invoices.errors import PeriodAlreadyBilled
from app.invoices.models import BillingPlan
from app.invoices.pdfs import Issued
from app.mail import Mailer, OutgoingMail
from app.rendering.mail_text import render_mail
from app.runtime import Collaborators


@dataclass
class RunReport:
    period: str
    issued: list[str] = field(default_factory=list)
    already_billed: int = 0
    nothing_due: int = 0
    refused: list[str] = field(default_factory=list)
    recovered: int = 0  # PDFs of invoices issued by an interrupted run, produced now


def plans_to_bill(factory: sessionmaker[Session]) -> list[int]:
    with transaction(factory) as session:
        return [plan.id for plan in plans.active_plans(session)]


def bill_plan(
    factory: sessionmaker[Session], plan_id: int, period: str, now: datetime, report: RunReport
) -> int | None:
    """Issue the plan's invoice for ``period`` in one short transaction; its id or None."""
    try:
        with transaction(factory) as session:
            plan = session.get(BillingPlan, plan_id)
            assert plan is not None
            invoice = issuing.issue_period_invoice(
                session, plan=plan, period=period, now=now, actor="job:invoices-run"
            )
            if invoice is None:
                report.nothing_due += 1
                return None
            report.issued.append(invoice.number)
            return invoice.id
    except PeriodAlreadyBilled:
        report.already_billed += 1
    except DomainError as exc:
        report.refused.append(f"plan {plan_id} : {exc.detail}")
    return None


def run_period(
    collab: Collaborators,
    period: str,
    *,
    workers: int = 1,
    on_step: Callable[[], None] = lambda: None,
) -> RunReport:
    """Issue every invoice due for ``period`` and produce their PDFs, the rendering of
    the first ones overlapping the issuing of the next (``workflow.pdf_producer``). PDFs a
    failure left missing (invoices and credit notes issued, not archived) are produced
    first."""
    parsed = issuing.billed_period(period)
    report = RunReport(period=str(parsed))
    missing = workflow.missing_pdfs(collab)
    workflow.produce_pdfs(
        collab,
        missing[Issued.CREDIT_NOTE],
        kind=Issued.CREDIT_NOTE,
        workers=1,  # rare: not worth starting a pool
        actor="job:invoices",
        on_done=on_step,
    )
    with workflow.pdf_producer(
        collab, workers=workers, actor="job:invoices", on_done=on_step
    ) as producer:
        for stranded in missing[Issued.INVOICE]:
            producer.add(stranded)
        for plan_id in plans_to_bill(collab.session_factory):
            issued = bill_plan(collab.session_factory, plan_id, str(parsed), collab.now, report)
            if issued is not None:
                producer.add(issued)
            on_step()
    report.recovered = sum(len(ids) for ids in missing.values())
    return report


def issue_period(
    collab: Collaborators,
    period: str,
    *,
    on_issued: Callable[[Issued, int], None],
    on_step: Callable[[], None] = lambda: None,
    report: RunReport | None = None,
) -> RunReport:
    """Issue every invoice due for ``period``, handing each to ``on_issued`` once committed
    (``paraphe invoices run`` enqueues its PDF job there), and first the invoices and credit
    notes still without their PDF. Nothing is rendered here: the queue's workers do it.
    ``report``: filled as it goes, so that a caller still has it when this raises."""
    parsed = issuing.billed_period(period)
    report = report if report is not None else RunReport(period=str(parsed))
    missing = workflow.missing_pdfs(collab)
    for kind, ids in missing.items():
        for stranded in ids:
            on_issued(kind, stranded)
    report.recovered = sum(len(ids) for ids in missing.values())
    for plan_id in plans_to_bill(collab.session_factory):
        issued = bill_plan(collab.session_factory, plan_id, str(parsed), collab.now, report)
        if issued is not None:
            on_issued(Issued.INVOICE, issued)
        on_step()
    return report


def issue_requested_run(
    collab: Collaborators, run_id: int, *, on_issued: Callable[[Issued, int], None]
) -> RunReport | None:
    """The run asked for on the plans page (``billing_runs.request_run``): ``issue_period``
    for its period, then its report on the run's row. Run again (a retry, a second worker)
    it issues nothing twice (``issue_period``); a run another job has, or finished, is left
    as it is (None). An attempt that fails keeps the numbers it issued on the run, so that
    its report still names them once the retry finds those plans billed."""
    with transaction(collab.session_factory) as session:
        period = billing_runs.start(session, run_id, collab.now)
    if period is None:
        return None
    report = RunReport(period=period)
    try:
        issue_period(collab, period, on_issued=on_issued, report=report)
    except BaseException:
        with transaction(collab.session_factory) as session:
            billing_runs.give_back(session, run_id, issued=report.issued)
        raise
    with transaction(collab.session_factory) as session:
        billing_runs.finish(
            session,
            run_id,
            issued=report.issued,
            already_billed=report.already_billed,
            nothing_due=report.nothing_due,
            refused=report.refused,
            now=utcnow(),
        )
    return report


def stalled_runs(collab: Collaborators) -> list[int]:
    """The billing runs whose job was lost, for the sweep to enqueue again."""
    with transaction(collab.session_factory) as session:
        return billing_runs.stalled(session, collab.now)


def reminder_mail(row: payments.Overdue) -> OutgoingMail:
    invoice = row.invoice
    return render_mail(
        "invoices/reminder.txt",
        invoice.client.signer_email,
        number=invoice.number,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        amount_due=row.amount_due,
        days_late=row.days_late,
        rate=row.rate,
        interest=row.interest,
        indemnity=row.indemnity,
        total_claimed=row.total_claimed,
    )


def send_reminders(
    factory: sessionmaker[Session], mailer: Mailer, *, as_of: date, now: datetime
) -> list[str]:
    """Record then send each reminder due (the record commits first: mail after commit)."""
    with transaction(factory) as session:
        mails = []
        for row, step in payments.reminders_due(session, as_of):
            payments.record_reminder(session, row=row, step=step, now=now)
            mails.append(reminder_mail(row))
    for mail in mails:
        mailer.send(mail)
    return [mail.subject for mail in mails]
