"""CGV use cases that span transactions or render: publishing a version (with its PDF/A, or
recorded at once with its PDF and notifications left to jobs), and notifying the clients.
Each takes the `Collaborators` of one unit of work, opens its own short transactions, holds
none while WeasyPrint renders or a mail leaves, and can run twice (the background-jobs queue
retries them): a second run publishes nothing new and mails nobody already mailed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from app.db import transaction
from app.documents.models import Document
from app.mail.outbox import enqueue_mail
from app.rendering.cgv import render_cgv_pdf
from app.runtime import Collaborators
from app.terms import planning, previews, versions
from app.terms.conversion import SourceFormat
from app.terms.models import CgvPreview, CgvVersion


@dataclass(frozen=True)
class Publication:
    version: CgvVersion  # loaded, usable after the transaction (expire_on_commit=False)
    created: bool  # False: this label already held this exact text (a second run)


@dataclass(frozen=True)
class Notified:
    """How many notices were written to the mail outbox (which delivers and retries each;
    a mail server's refusal is the outbox's to retry, not the notifying job's)."""

    sent: int


def publish_version(c: Collaborators, draft: versions.CgvDraft, *, actor: str) -> Publication:
    """Check the draft, render its PDF/A with no transaction open, then record the version,
    deposit the PDF and journal both in one short transaction (CgvInvalid when refused).
    A version with this label and this exact text already published is the same publication:
    it is returned as it is (its PDF archived if it had none)."""
    vendor_name = c.settings.vendor.legal_name
    with transaction(c.session_factory) as session:
        existing = session.scalar(
            select(CgvVersion).where(
                CgvVersion.label == draft.label.strip(),
                CgvVersion.sha256 == versions.text_sha256(draft.body_markdown),
            )
        )
        if existing is not None and existing.document_id is not None:
            return Publication(existing, created=False)
        # not in the session: nothing is written by this first, reading transaction
        checked = existing or versions.check_version(session, draft, c.now)
        document = versions.cgv_document(checked, vendor_name=vendor_name)
    pdf = render_cgv_pdf(document)
    with transaction(c.session_factory) as session:
        if existing is not None:
            version = versions.get_version(session, existing.id)
        else:
            version = versions.record_version(session, draft, now=c.now, actor=actor)
        versions.archive_pdf(
            session, c.store, version, vendor_name=vendor_name, now=c.now, actor=actor, pdf=pdf
        )
    return Publication(version, created=existing is None)


def archived_pdf(c: Collaborators, label: str) -> Document:
    """The version's archived PDF/A. A version recorded without one (published before PDFs
    existed, or by code) gets it now: rendered with no transaction open, then archived under
    the version's row lock, where a request that archived it meanwhile wins (same bytes)."""
    vendor_name = c.settings.vendor.legal_name
    with transaction(c.session_factory) as session:
        version = versions.get_version_by_label(session, label)
        if version.document_id is not None:
            document = session.get(Document, version.document_id)
            assert document is not None  # foreign key
            return document
        content = versions.cgv_document(version, vendor_name=vendor_name)
    pdf = render_cgv_pdf(content)
    with transaction(c.session_factory) as session:
        version = versions.get_version_by_label(session, label)
        return versions.archive_pdf(
            session, c.store, version, vendor_name=vendor_name, now=c.now, actor="system", pdf=pdf
        )


def prepare_preview(
    c: Collaborators,
    draft: versions.CgvDraft,
    *,
    source: SourceFormat,
    filename: str | None,
) -> int:
    """Check the submitted version and keep it for its preview, in one short transaction
    (CgvInvalid when refused); its PDF is a job (`app.terms.tasks.render_preview`)."""
    with transaction(c.session_factory) as session:
        return previews.create_preview(
            session, draft, source=source, filename=filename, now=c.now
        ).id


def render_preview(c: Collaborators, preview_id: int) -> None:
    """The preview's PDF, rendered with no transaction open and stored once (a second run
    of the job finds it done). The job's retries cover a failed rendering."""
    vendor_name = c.settings.vendor.legal_name
    with transaction(c.session_factory) as session:
        preview = previews.get_preview(session, preview_id)
        if preview.rendered_at is not None:
            return
        document = versions.cgv_document(preview, vendor_name=vendor_name)
    pdf = render_cgv_pdf(document)
    with transaction(c.session_factory) as session:
        preview = previews.get_preview(session, preview_id, lock=True)
        if preview.rendered_at is None:
            preview.pdf = pdf
            preview.rendered_at = c.now


def publish_preview(
    c: Collaborators, preview_id: int, *, shown_sha256: str, actor: str
) -> tuple[CgvVersion, bool]:
    """Publish a previewed text in one short transaction (``previews.publish_preview``); its
    archived PDF/A and the clients' notifications follow as jobs, for the caller to enqueue
    when this call published it."""
    with transaction(c.session_factory) as session:
        return previews.publish_preview(
            session, preview_id, shown_sha256=shown_sha256, now=c.now, actor=actor
        )


CHUNK = 200
"""Clients per notification job: a job is a few seconds of work, so a lost one costs little and
the jobs of a large publication spread over every worker process."""

CLAIM_BATCH = 25
"""Notifications claimed per transaction inside a job: a crash strands at most this many
claims until their lease ends, and one claim's lease covers this many SMTP timeouts."""


def publish(c: Collaborators, draft: versions.CgvDraft, *, actor: str) -> CgvVersion:
    """The publication form: check and record the version, journaled, in one short
    transaction (CgvInvalid when refused, a label already published included). Its PDF/A and
    the clients' notifications are jobs (`app.terms.tasks.after_publication`): the request
    answers without rendering or mailing."""
    with transaction(c.session_factory) as session:
        return versions.record_version(session, draft, now=c.now, actor=actor, fan_out=True)


def archive_version_pdf(c: Collaborators, version_id: int) -> None:
    """The PDF/A of a version, rendered and archived once (the job after a publication)."""
    with transaction(c.session_factory) as session:
        label = versions.get_version(session, version_id).label
    archived_pdf(c, label)


def plan_notifications(c: Collaborators, version_id: int) -> list[list[int]]:
    """The fan-out: one notification row per active client (one statement, one short
    transaction), then the clients still to mail, in chunks of `CHUNK`, for one job each."""
    with transaction(c.session_factory) as session:
        planning.plan_notifications(session, version_id, c.now)
    with transaction(c.session_factory) as session:
        pending = planning.pending_clients(session, version_id, c.now)
    return [pending[i : i + CHUNK] for i in range(0, len(pending), CHUNK)]


def notify_clients(c: Collaborators, version_id: int, client_ids: Sequence[int]) -> Notified:
    """Mail these clients of the version, each once whatever runs at the same time: each
    batch of `CLAIM_BATCH` notifications is claimed (another job's claims, and
    notifications already mailed, are skipped), written to the mail outbox and stamped sent
    in one transaction (a minor version binds from then). A job killed before that commit
    did nothing; after it, the outbox delivers each mail once (`app.mail.outbox`, retried,
    its delivery time kept on the outbox row as the proof of sending)."""
    sent = 0
    for start in range(0, len(client_ids), CLAIM_BATCH):
        with transaction(c.session_factory) as session:
            version = versions.get_version(session, version_id)
            notices = planning.claim_notices(
                session,
                version,
                client_ids[start : start + CLAIM_BATCH],
                base_url=c.settings.base_url,
                vendor_name=c.settings.vendor.legal_name,
                link_days=c.settings.signing_link_days,
                now=c.now,
            )
            for notice in notices:
                key = f"terms.notice:{notice.notification_id}"
                enqueue_mail(session, notice.mail, now=c.now, key=key)
                planning.mark_sent(session, notice.notification_id, c.now)
        sent += len(notices)
    return Notified(sent=sent)


def notify(c: Collaborators, version_id: int, *, limit: int | None = None) -> Notified:
    """Tell every active client of the version by mail, once, in this process (the jobs do
    the same in chunks): the rows first, then the mails. ``limit`` caps the mails of one
    run."""
    with transaction(c.session_factory) as session:
        planning.plan_notifications(session, version_id, c.now)
    with transaction(c.session_factory) as session:
        pending = planning.pending_clients(session, version_id, c.now)
    return notify_clients(c, version_id, pending[:limit])


@dataclass(frozen=True)
class Resumption:
    """What the sweep found undone: versions without their PDF, versions whose fan-out never
    ran, and chunks of clients whose notification job was lost."""

    pdfs: list[int]
    fan_outs: list[int]
    chunks: list[tuple[int, list[int]]]
    previews: list[int]  # previews whose PDF job was lost (legal's page waits for it)


def sweep(c: Collaborators) -> Resumption:
    """Find the work whose job was lost (a worker killed, a broker flushed, retries spent):
    the claims of dead jobs are dropped; notifications created more than a lease ago and
    still unmailed are handed out again (a job still queued for them finds them claimed or
    sent and does nothing)."""
    stale_before = c.now - planning.CLAIM_LEASE
    with transaction(c.session_factory) as session:
        planning.release_stale_claims(session, c.now)
    with transaction(c.session_factory) as session:
        pdfs = list(session.scalars(select(CgvVersion.id).where(CgvVersion.document_id.is_(None))))
        fan_outs = list(
            session.scalars(
                select(CgvVersion.id).where(CgvVersion.notifications_planned_at.is_(None))
            )
        )
        planned = session.scalars(
            select(CgvVersion.id).where(CgvVersion.notifications_planned_at.is_not(None))
        ).all()
        chunks: list[tuple[int, list[int]]] = []
        for version_id in planned:
            pending = planning.pending_clients(
                session, version_id, c.now, created_before=stale_before
            )
            chunks += [(version_id, pending[i : i + CHUNK]) for i in range(0, len(pending), CHUNK)]
        unrendered = session.scalars(
            select(CgvPreview.id).where(
                CgvPreview.rendered_at.is_(None),
                CgvPreview.published_version_id.is_(None),
                CgvPreview.created_at < stale_before,
            )
        ).all()
    return Resumption(pdfs, fan_outs, chunks, list(unrendered))
