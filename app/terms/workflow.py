"""CGV use cases that span transactions or render: publishing a version with its PDF/A, and
notifying the clients. Each takes the `Collaborators` of one unit of work, opens its own
short transactions, holds none while WeasyPrint renders or a mail leaves, and can run twice
(the background-jobs queue will retry them): a second run publishes nothing new and mails
nobody already mailed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.db import transaction
from app.documents.models import Document
from app.mail import MailError
from app.rendering.cgv import render_cgv_pdf
from app.runtime import Collaborators
from app.terms import notifications, versions
from app.terms.errors import CgvInvalid
from app.terms.models import CgvVersion


@dataclass(frozen=True)
class Publication:
    version: CgvVersion  # loaded, usable after the transaction (expire_on_commit=False)
    created: bool  # False: this label already held this exact text (a second run)


@dataclass(frozen=True)
class Notified:
    sent: int
    failed: int  # left unsent: the next run of `notify` retries them


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


def notify(c: Collaborators, version_id: int, *, limit: int | None = None) -> Notified:
    """Tell every active client of the version by mail, once: the notifications are recorded
    and committed before any mail leaves, and each mail sent is stamped in its own
    transaction (a minor version binds from then). ``limit`` caps the mails of one run."""
    with transaction(c.session_factory) as session:
        version = versions.get_version(session, version_id)
        notices = notifications.prepare_notices(
            session,
            version,
            base_url=c.settings.base_url,
            vendor_name=c.settings.vendor.legal_name,
            link_days=c.settings.signing_link_days,
            now=c.now,
            limit=limit,
        )
    failed = 0
    for notice in notices:
        try:
            c.mailer.send(notice.mail)
        except MailError:
            failed += 1
            continue
        with transaction(c.session_factory) as session:
            notifications.mark_sent(session, notice.notification_id, c.now)
    return Notified(sent=len(notices) - failed, failed=failed)


def publish_and_notify(
    c: Collaborators, draft: versions.CgvDraft, *, actor: str
) -> tuple[Publication, Notified]:
    """The publication form: publish, then notify. A person who submits a label already
    published is told so, as any refused field (a queue re-running `publish_version` is not)."""
    publication = publish_version(c, draft, actor=actor)
    if not publication.created:
        raise CgvInvalid({"label": versions.label_taken(publication.version.label)})
    return publication, notify(c, publication.version.id)
