"""Restitution requests: one row per restitution asked for and built in the background
(`archive.build_restitution`), read by the API's status resource and the contact's page.

Single-transaction steps; `archive.workflow` runs them around the build and the mail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.archive.errors import RestitutionLinkGone, RestitutionRequestNotFound
from app.archive.models import (
    LinkPurpose,
    RestitutionLink,
    RestitutionRequest,
    RestitutionStatus,
)
from app.audit import services as audit
from app.clients.models import Client
from app.events import recording as events
from app.events.recording import Resource
from app.messages import msg
from app.tokens import token_hash

DOWNLOAD_PATH = "/restitution/archive/"
"""Where a download link points (`archive.views.download`): a job has no request to build
URLs with, so it joins the public base URL and this path (a test holds it to the route)."""


def download_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{DOWNLOAD_PATH}{token}"


def open_request(
    session: Session,
    client_id: int,
    *,
    actor: str,
    now: datetime,
    request_link_id: int | None = None,
) -> RestitutionRequest:
    """The client's pending request, or a new one (journaled). The client's row is locked
    first (BEGIN IMMEDIATE on SQLite), so two submissions at once open one request; the
    partial unique index on pending requests holds it too."""
    session.get_one(Client, client_id, with_for_update=True)
    pending = session.scalar(
        select(RestitutionRequest).where(
            RestitutionRequest.client_id == client_id,
            RestitutionRequest.status == RestitutionStatus.PENDING,
        )
    )
    if pending is not None:
        if pending.request_link_id is None:
            # the contact asks while an archivist's request is being built: the same archive
            pending.request_link_id = request_link_id
        return pending
    request = _new_request(
        session, client_id, RestitutionStatus.PENDING, actor, request_link_id, now=now
    )
    audit.record_about_client(
        session,
        client_id,
        now=now,
        actor=actor,
        action="restitution.requested",
        details={"request_id": request.id},
    )
    return request


def get_request(session: Session, request_id: int, *, lock: bool = False) -> RestitutionRequest:
    request = session.get(
        RestitutionRequest, request_id, with_for_update=lock, populate_existing=lock
    )
    if request is None:
        raise RestitutionRequestNotFound(
            msg("Demande de restitution n° {request_id} introuvable.", request_id=request_id)
        )
    return request


def request_of_link(session: Session, token: str) -> RestitutionRequest:
    """The latest request made through the contact's request link `token` (its page follows
    it, even once the link is used)."""
    request = session.scalar(
        select(RestitutionRequest)
        .join(RestitutionLink, RestitutionLink.id == RestitutionRequest.request_link_id)
        .where(
            RestitutionLink.token_hash == token_hash(token),
            RestitutionLink.purpose == LinkPurpose.REQUEST,
        )
        .order_by(RestitutionRequest.id.desc())
        .limit(1)
    )
    if request is None:
        raise RestitutionLinkGone(msg("Aucune demande n'a été faite par ce lien."))
    return request


def download_link(session: Session, request: RestitutionRequest) -> RestitutionLink | None:
    if request.download_link_id is None:
        return None
    return session.get(RestitutionLink, request.download_link_id)


def mark_ready(
    session: Session,
    request: RestitutionRequest,
    *,
    document_id: int,
    link: RestitutionLink,
    now: datetime,
) -> None:
    """The request's archive is built and its download link created (the request locked by
    the caller and still pending): ready, with its `restitution.ready` event in the same
    transaction (the download link itself goes to the contact only, by mail)."""
    request.status = RestitutionStatus.READY
    request.document_id = document_id
    request.download_link_id = link.id
    request.finished_at = now
    events.record(
        session,
        "restitution.ready",
        Resource("restitution_request", request.id, f"/api/v1/restitution-requests/{request.id}"),
        {
            "client_id": request.client_id,
            "status": RestitutionStatus.READY.value,
            "document": {"id": document_id, "links": {"api": f"/api/v1/documents/{document_id}"}},
        },
        now=now,
    )


def ready_at_once(
    session: Session,
    client_id: int,
    *,
    document_id: int,
    link: RestitutionLink,
    actor: str,
    now: datetime,
    request_link_id: int | None = None,
) -> RestitutionRequest:
    """A request answered at once (the client's latest archive was still current, so no job
    built anything): recorded ready in the transaction that creates its download link, through
    `mark_ready` like the job's, so that every archive handed over has its status resource and
    its one `restitution.ready` event. Never pending, so beside a pending request of the same
    client without touching it."""
    request = _new_request(
        session, client_id, RestitutionStatus.READY, actor, request_link_id, now=now
    )
    mark_ready(session, request, document_id=document_id, link=link, now=now)
    return request


def _new_request(
    session: Session,
    client_id: int,
    status: RestitutionStatus,
    actor: str,
    request_link_id: int | None,
    *,
    now: datetime,
) -> RestitutionRequest:
    """A request row, flushed so that it has its id; who asked is cut to its column's 64."""
    request = RestitutionRequest(
        client_id=client_id,
        status=status,
        actor=actor[:64],
        request_link_id=request_link_id,
        requested_at=now,
    )
    session.add(request)
    session.flush()
    return request
