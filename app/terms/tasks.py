"""The CGV's background jobs: a published version's PDF/A, the fan-out of its notifications
into jobs of `workflow.CHUNK` clients, those jobs, and the periodic sweep that resumes what a
lost job left undone. Each calls a function of `workflow`.

One mail per client and version whatever the timing: the notification rows are unique per
(client, version), and a job mails only the rows it claimed by a conditional update
(`planning.claim_notices`), so a chunk run twice, by two workers, or again by the sweep,
mails nobody twice."""

from __future__ import annotations

from app.queue.context import collaborators
from app.queue.tasks import Priority, job, periodic
from app.runtime import Collaborators
from app.terms import workflow


# The CGV version page waits for its PDF.
@job("terms.render_pdf", priority=Priority.NORMAL)
def render_pdf(version_id: int) -> None:
    workflow.archive_version_pdf(collaborators(), version_id)


# The author is looking at the preview's progress.
@job("terms.render_preview", priority=Priority.NORMAL)
def render_preview(preview_id: int) -> None:
    workflow.render_preview(collaborators(), preview_id)


# Notifying every client of a version: nobody waits on one notice.
@job("terms.fan_out", priority=Priority.LOW)
def fan_out(version_id: int) -> None:
    for chunk in workflow.plan_notifications(collaborators(), version_id):
        notify_chunk.enqueue(version_id, chunk)


# One chunk of that fan-out.
@job("terms.notify", priority=Priority.LOW)
def notify_chunk(version_id: int, client_ids: list[int]) -> None:
    """Mail a chunk of clients: their notices go to the mail outbox, whose own job delivers
    and retries each mail a server refuses."""
    workflow.notify_clients(collaborators(), version_id, client_ids)


def after_publication(version_id: int) -> None:
    """What follows a publication: its PDF/A, then the notification of the clients (the
    mails link to the PDF, which the public address also renders on a first request)."""
    render_pdf.enqueue(version_id)
    fan_out.enqueue(version_id)


def resume(c: Collaborators) -> None:
    """Enqueue again what the sweep found undone."""
    found = workflow.sweep(c)
    for version_id in found.pdfs:
        render_pdf.enqueue(version_id)
    for version_id in found.fan_outs:
        fan_out.enqueue(version_id)
    for version_id, chunk in found.chunks:
        notify_chunk.enqueue(version_id, chunk)
    for preview_id in found.previews:
        render_preview.enqueue(preview_id)


@periodic("terms.sweep", minute="*/10")
def sweep() -> None:
    resume(collaborators())
