"""Invoicing's background jobs: a period's billing run asked for on the plans page, the PDF
of each issued invoice or credit note (rendered, sealed when configured, archived), the
sweeps of the billing runs and PDFs a lost job left unfinished, and the daily payment
reminders (formerly a cron line running `paraphe invoices remind`)."""

from __future__ import annotations

from app.clock import business_date
from app.invoices import jobs, workflow
from app.invoices.pdfs import Issued
from app.queue.context import collaborators
from app.queue.tasks import Priority, job, periodic

ACTOR = "job:invoices"


# An invoice's page shows « PDF en préparation » until it is done.
@job("invoices.produce_pdf", priority=Priority.NORMAL)
def produce_pdf(kind: str, issued_id: int) -> None:
    """Produce the PDF of one issued document unless it has one. A rendering or sealing
    failure is raised: the queue retries with backoff, then the sweep below."""
    workflow.produce_pdfs(collaborators(), [issued_id], kind=Issued(kind), actor=ACTOR)


def after_issue(kind: Issued, issued_id: int) -> None:
    """What follows the commit of an issued document: its PDF, in the background."""
    produce_pdf.enqueue(kind.value, issued_id)


# The plans page follows it (« en attente », « en cours », « terminé »): a person is waiting.
@job("invoices.issue_period", priority=Priority.HIGH)
def issue_period(run_id: int) -> None:
    """Issue the due invoices of the period a billing person asked for on the plans page,
    then their PDFs, each by its own job, as `paraphe invoices run` does."""
    jobs.issue_requested_run(collaborators(), run_id, on_issued=after_issue)


@periodic("invoices.resume_runs", minute="*/5")
def resume_runs() -> None:
    """Every five minutes: the billing runs whose job was lost (a worker killed mid-run, a
    broker flushed) are enqueued again, so a page never shows « en cours » for good."""
    for run_id in jobs.stalled_runs(collaborators()):
        issue_period.enqueue(run_id)


@periodic("invoices.produce_missing", minute="30")
def produce_missing() -> None:
    """Every hour: the PDFs still missing, whose job was lost (a worker killed, a broker
    flushed) or gave up."""
    workflow.produce_missing_pdfs(collaborators(), actor=ACTOR)


@periodic("invoices.remind", minute="0", hour="7")
def remind() -> None:
    """Every day: the reminders due for unpaid invoices (each sent once: recorded first)."""
    collab = collaborators()
    jobs.send_reminders(
        collab.session_factory, collab.mailer, as_of=business_date(collab.now), now=collab.now
    )
