"""The signature workflow's background jobs: a signer's signature after the consent its POST
recorded, the seal of a completed request (then its evidence
file, the archive and the completion mails), and the periodic sweep, expiry and reminders
that were cron lines. Each calls the workflow function that the CLI command calls too.

One seal per request whatever the timing: `seal.prepare_seal` and `seal.record_seal` re-check
under the request's row lock, so a second job for the same request (a retry, two workers, the
sweep) records nothing and mails nothing; the sweep seals a request whose job was lost (a
worker killed, a broker flushed)."""

from __future__ import annotations

import logging

from app.db import utcnow
from app.queue.context import collaborators
from app.queue.tasks import Priority, job, periodic
from app.runtime import Collaborators
from app.signatures import page_images, signing_flow, workflow
from app.signatures.errors import RevisionIntegrityFailed

log = logging.getLogger(__name__)


# Signers and sales watch the seal's progress after the last signature.
@job("signatures.seal", priority=Priority.HIGH)
def seal_request(request_id: int) -> None:
    """Seal a completed request. A signing failure (TSA down…) is recorded on the request
    and raised: the queue retries with backoff, and the sweep after that."""
    try:
        workflow.seal(collaborators(), request_id)
    except RevisionIntegrityFailed as exc:
        # Journaled and shown on the stuck-seal page; retrying cannot restore a blob.
        log.warning("request %s not sealed: %s", request_id, exc.detail)


# The signer who consented is on the page that follows it.
@job("signatures.sign", priority=Priority.IMMEDIATE)
def sign_consented(signer_id: int) -> None:
    """Apply the signature a signer consented to on the signing page (its POST recorded the
    consent and answered at once), mail the next group, and enqueue the seal after the last
    one. Idempotent: a second run finds the signer signed and does nothing. A signing failure
    (key or TSA down) is counted on the signer and raised: the queue retries with backoff,
    the admins see the failed job, and the sweep enqueues it again after that (marking the
    failed run relaunched: one run on the admins' page), never while it waits for a retry."""
    result = signing_flow.apply_consented(collaborators(), signer_id)
    if result is not None:
        after_signature(result)


# Ready before the signer opens the link; the page offers the PDF meanwhile.
@job("signatures.page_images", priority=Priority.NORMAL)
def render_page_images(document_id: int) -> None:
    """The contract's pages as images for the signing page (once per document: a second run
    finds them and stops). A poppler failure raises: the queue retries."""
    collab = collaborators()
    page_images.render(collab.session_factory, collab.store, document_id, now=utcnow())


def after_send(document_id: int) -> None:
    """What follows a send: the signers' page images, ready before the first opens the link."""
    render_page_images.enqueue(document_id)


def after_signature(result: signing_flow.SignResult) -> None:
    """What follows a signature: the seal, when it was the last one."""
    if result.completed:
        seal_request.enqueue(result.request_id)


@periodic("signatures.sweep", minute="*/5")
def sweep() -> None:
    collab = collaborators()
    # Consents whose signature job was lost first: their seal may follow in this same sweep.
    requeue_lost_signatures(collab)
    workflow.sweep(collab)


def requeue_lost_signatures(collab: Collaborators) -> int:
    """Enqueue again the signature of each consent whose job was lost (the periodic sweep and
    `paraphe signatures sweep`); how many. Not one whose job is running or waiting for its
    retry (a TSA down a moment): a second job would count its attempts twice and could show a
    failure beside a run that succeeds."""
    return sum(
        sign_consented.enqueue_again(signer_id)
        for signer_id in signing_flow.lost_signatures(collab)
    )


@periodic("signatures.expire", minute="0")
def expire() -> None:
    workflow.expire(collaborators())


@periodic("signatures.remind", minute="0", hour="8")
def remind() -> None:
    workflow.remind(collaborators())
