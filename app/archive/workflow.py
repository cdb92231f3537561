"""Restitution use cases that span transactions, the ZIP writer, the seal and the mail.

Each takes `Collaborators` and opens its own short transactions: none is open while the
archive is written and sealed, nor while a mail is sent. `build_restitution` is idempotent:
run twice for the same client data (by a retried job, a double click, two archivists), it
archives one restitution and returns it both times.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.archive.mails import download_mail, invitation_mail, send_mail
from app.archive.models import LinkPurpose, RestitutionLink, RestitutionStatus
from app.archive.restitution import requests
from app.archive.restitution.assembly import write_restitution
from app.archive.restitution.contents import client_identity, client_state
from app.archive.restitution.links import create_link, find_link
from app.archive.restitution.records import (
    RestitutionRecord,
    current_restitution,
    record_restitution,
)
from app.archive.restitution.zipwriter import CHUNK
from app.clients.models import Client
from app.clients.services import get_client
from app.db import transaction
from app.documents.errors import DocumentIntegrityFailed
from app.documents.models import Document
from app.documents.services import lock_blob
from app.pki import trust_roots
from app.runtime import Collaborators


@dataclass(frozen=True)
class BuiltRestitution:
    record: RestitutionRecord
    created: bool
    """False when the client's latest archive was still current and is returned as is."""


def build_restitution(collab: Collaborators, client_id: int, *, actor: str) -> BuiltRestitution:
    """The client's restitution archive for its data as it is now: the latest one if nothing
    changed since it was built, else a new one, written and sealed outside any transaction,
    then archived and journaled. A damaged document stops it (`DocumentIntegrityFailed`,
    journaled) and nothing is archived. `ClientNotFound` for an unknown client."""
    factory = collab.session_factory
    with transaction(factory) as session:
        state = client_state(session, client_id)
        existing = current_restitution(session, client_id, state)
        identity = client_identity(session, client_id)
    if existing is not None:
        return BuiltRestitution(existing, created=False)

    with tempfile.TemporaryFile() as out:
        result = write_restitution(
            lambda: transaction(factory),
            collab.store,
            identity,
            out,
            now=collab.now,
            actor=actor,
            seal_key=collab.signing_key(),
            trust_roots=trust_roots(collab.settings),
        )
        out.seek(0)
        ref = collab.store.put_stream(iter(lambda: out.read(CHUNK), b""))

    with transaction(factory) as session:
        # Locked (BEGIN IMMEDIATE on SQLite): of two runs for the same state, one records.
        session.get_one(Client, client_id, with_for_update=True)
        existing = current_restitution(session, client_id, state)
        if existing is None:
            record = record_restitution(
                session,
                ref,
                client_id,
                result,
                state=state,
                now=collab.now,
                actor=actor,
                retention=collab.settings.retention,
            )
            lock_blob(collab.store, record.document)
            return BuiltRestitution(record, created=True)
        unused = session.scalar(select(Document.id).where(Document.sha256 == ref.sha256)) is None
    # Another run archived the same state meanwhile: ours is left unreferenced, so removed
    # (an orphan blob would be reported by `paraphe storage scrub`).
    if unused:
        collab.store.delete(ref.sha256)
    return BuiltRestitution(existing, created=False)


@dataclass(frozen=True)
class Delivery:
    """A restitution handed to the client's contact through an expiring download link."""

    built: BuiltRestitution
    download_token: str
    """The download link's credential, shown once (the page that answers the request)."""
    download_url: str
    expires_at: datetime
    mail_sent_to: str | None
    """None when the mail could not be sent (logged; the link is still valid)."""


LinkUrl = Callable[[str], str]
"""The absolute URL of a link, from its token (built by the web layer)."""


def _deliver(
    collab: Collaborators,
    client_id: int,
    built: BuiltRestitution,
    *,
    actor: str,
    download_url: LinkUrl,
    used_request: str | None = None,
) -> Delivery:
    """A download link for `built` (in one transaction, which also marks the request link
    `used_request` used), then the mail to the client's contact, after commit."""
    document = built.record.document
    request_link_id = None
    with transaction(collab.session_factory) as session:
        if used_request is not None:
            request_link = find_link(
                session, used_request, purpose=LinkPurpose.REQUEST, now=collab.now, lock=True
            )
            request_link.used_at = collab.now
            request_link_id = request_link.id
        client = get_client(session, client_id)
        link, token = create_link(
            session,
            client.id,
            purpose=LinkPurpose.DOWNLOAD,
            document_id=document.id,
            now=collab.now,
            actor=actor,
        )
        request_id = requests.ready_at_once(
            session,
            client.id,
            document_id=document.id,
            link=link,
            actor=actor,
            now=collab.now,
            request_link_id=request_link_id,
        ).id
    url = download_url(token)
    sent = send_mail(collab.mailer, download_mail(client, url, link.expires_at))
    if sent:
        with transaction(collab.session_factory) as session:
            requests.get_request(session, request_id, lock=True).mail_sent_to = client.signer_email
    return Delivery(built, token, url, link.expires_at, client.signer_email if sent else None)


def request_restitution(
    collab: Collaborators, client_id: int, *, actor: str, download_url: LinkUrl
) -> Delivery:
    """An archivist's request: the archive (built unless current) and an expiring download
    link emailed to the client's contact. Each request sends a new link."""
    built = build_restitution(collab, client_id, actor=actor)
    return _deliver(collab, client_id, built, actor=actor, download_url=download_url)


def request_by_link(collab: Collaborators, token: str, *, download_url: LinkUrl) -> Delivery:
    """The client's contact asked through its request link: the archive and a download link,
    mailed. The request link is marked used only once the archive exists: after a damaged
    document stopped it, the same link works again once the document is restored.
    `RestitutionLinkGone` if the link is unknown, expired or already used."""
    with transaction(collab.session_factory) as session:
        link = find_link(session, token, purpose=LinkPurpose.REQUEST, now=collab.now)
        client_id = link.client_id
    actor = f"contact:client-{client_id}"
    built = build_restitution(collab, client_id, actor=actor)
    return _deliver(
        collab, client_id, built, actor=actor, download_url=download_url, used_request=token
    )


def restitution_is_current(collab: Collaborators, client_id: int) -> bool:
    """Whether the client's latest archive still holds its data as it is now: then a request
    is answered at once (a link to it); otherwise the archive is built by a job."""
    with transaction(collab.session_factory) as session:
        state = client_state(session, client_id)
        return current_restitution(session, client_id, state) is not None


def order_restitution(collab: Collaborators, client_id: int, *, actor: str) -> int:
    """Record that a restitution is asked for (the client's pending request if there is one):
    its id, for the job `archive.build_restitution` and the status resource.
    `ClientNotFound` for an unknown client."""
    with transaction(collab.session_factory) as session:
        get_client(session, client_id)
        return requests.open_request(session, client_id, actor=actor, now=collab.now).id


def client_of_request_link(collab: Collaborators, token: str) -> int:
    """The client whose contact holds the request link `token` (`RestitutionLinkGone` if it
    is unknown, expired or used)."""
    with transaction(collab.session_factory) as session:
        return find_link(session, token, purpose=LinkPurpose.REQUEST, now=collab.now).client_id


def order_by_link(collab: Collaborators, token: str) -> int:
    """The contact's request through its link: like `order_restitution`; the link is marked
    used only once the archive is ready (after a damaged document stopped it, the same link
    works again once the document is restored)."""
    with transaction(collab.session_factory) as session:
        link = find_link(session, token, purpose=LinkPurpose.REQUEST, now=collab.now)
        request = requests.open_request(
            session,
            link.client_id,
            actor=f"contact:client-{link.client_id}",
            now=collab.now,
            request_link_id=link.id,
        )
        return request.id


def fulfil_restitution(collab: Collaborators, request_id: int) -> RestitutionStatus:
    """The job's work: build the archive of a pending request (`build_restitution`, outside
    any transaction), then in one transaction re-check the request under its row lock, create
    the download link and mark it ready; the mail leaves after that commit. A request no
    longer pending is left alone, so a job run twice mails once. A damaged document (already
    journaled by the build) marks the request failed: retrying cannot restore a file."""
    with transaction(collab.session_factory) as session:
        request = requests.get_request(session, request_id)
        if request.status is not RestitutionStatus.PENDING:
            return request.status
        client_id, actor = request.client_id, request.actor
    try:
        built = build_restitution(collab, client_id, actor=actor)
    except DocumentIntegrityFailed as exc:
        with transaction(collab.session_factory) as session:
            request = requests.get_request(session, request_id, lock=True)
            if request.status is RestitutionStatus.PENDING:
                request.status = RestitutionStatus.FAILED
                request.problem = exc.detail
                request.finished_at = collab.now
            return request.status
    with transaction(collab.session_factory) as session:
        request = requests.get_request(session, request_id, lock=True)
        if request.status is not RestitutionStatus.PENDING:
            return request.status
        if request.request_link_id is not None:
            session.get_one(RestitutionLink, request.request_link_id).used_at = collab.now
        client = get_client(session, client_id)
        link, token = create_link(
            session,
            client_id,
            purpose=LinkPurpose.DOWNLOAD,
            document_id=built.record.document.id,
            now=collab.now,
            actor=actor,
        )
        requests.mark_ready(
            session, request, document_id=built.record.document.id, link=link, now=collab.now
        )
        mail = download_mail(
            client, requests.download_url(collab.settings.base_url, token), link.expires_at
        )
    if send_mail(collab.mailer, mail):
        with transaction(collab.session_factory) as session:
            requests.get_request(session, request_id, lock=True).mail_sent_to = mail.to
    return RestitutionStatus.READY


@dataclass(frozen=True)
class Invitation:
    expires_at: datetime
    mail_sent_to: str | None


def invite_contact(
    collab: Collaborators, client_id: int, *, actor: str, request_url: LinkUrl
) -> Invitation:
    """Email the client's contact an expiring link through which it requests its archive
    (the link is committed before the mail leaves)."""
    with transaction(collab.session_factory) as session:
        client = get_client(session, client_id)
        link, token = create_link(
            session,
            client_id,
            purpose=LinkPurpose.REQUEST,
            document_id=None,
            now=collab.now,
            actor=actor,
        )
    sent = send_mail(collab.mailer, invitation_mail(client, request_url(token), link.expires_at))
    return Invitation(link.expires_at, client.signer_email if sent else None)
