"""The archivist API (/api/v1): documents, content, termination, restitution."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request, url_for

from app.archive import schemas, tasks, workflow
from app.archive.openapi import openapi_spec
from app.archive.restitution import requests
from app.archive.restitution.records import archived_restitution
from app.archive.services import listing, retention
from app.auth.api_actor import token_actor
from app.auth.guards import require_scope
from app.auth.models import Scope
from app.clients import services as clients
from app.db import utcnow
from app.documents import services as documents
from app.documents.models import Document
from app.documents.serving import checked_bytes, open_checked, stream_response
from app.runtime import Collaborators
from app.wiring import db_session, hand_over, read_only_db_session, runtime, unit_of_work

bp = Blueprint("archive_api", __name__, url_prefix="/api/v1")


@bp.get("/openapi.json")
@require_scope(Scope.READ)
def openapi() -> dict[str, Any]:
    """The OpenAPI 3 description of this API (browsable at /documentation/api)."""
    return openapi_spec()


@bp.get("/documents")
@require_scope(Scope.READ)
def list_documents() -> dict[str, Any]:
    query = schemas.parse_list_query(request.args.to_dict())
    page = listing.list_documents(read_only_db_session(), **query)
    base = schemas.documents_url()
    return {
        "items": [schemas.document_json(d, base) for d in page.items],
        "next_cursor": page.next_cursor,
    }


@bp.get("/documents/<int:document_id>")
@require_scope(Scope.READ)
def get_document(document_id: int) -> dict[str, Any]:
    return schemas.document_json(listing.document_metadata(read_only_db_session(), document_id))


@bp.get("/documents/<int:document_id>/events")
@require_scope(Scope.READ)
def document_events(document_id: int) -> dict[str, Any]:
    db = read_only_db_session()
    events = listing.document_events(db, documents.get_document(db, document_id))
    return {"items": [schemas.event_json(e) for e in events]}


@bp.get("/documents/<int:document_id>/content")
@require_scope(Scope.READ)
def document_content(document_id: int) -> Response:
    db = db_session()
    document = documents.get_document(db, document_id)
    etag = f'"{document.sha256}"'
    if etag in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers={"ETag": etag})
    # Parsed before the read: a refused or unsatisfiable range reads (and journals) nothing.
    wanted = schemas.parse_range(request.headers.get("Range"), document.size)
    if request.headers.get("If-Range", etag) != etag:
        wanted = None  # the client's part is of another version: it gets the whole content
    if wanted is None:
        data = checked_bytes(db, runtime().store, document, actor=token_actor())
        response = Response(data, mimetype=document.media_type)
    else:
        # Only the part is fetched (a ranged GET on S3), once the whole blob has been verified.
        part = (wanted.first, wanted.last - wanted.first + 1)
        with open_checked(db, runtime().store, document, actor=token_actor(), part=part) as source:
            response = Response(source.read(), 206, mimetype=document.media_type)
        response.headers["Content-Range"] = f"bytes {wanted.first}-{wanted.last}/{document.size}"
    response.headers["ETag"] = etag
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    response.headers["Digest"] = f"sha-256={document.sha256}"
    return response


@bp.put("/documents/<int:document_id>/legal-hold")
@require_scope(Scope.ADMIN)
def place_legal_hold(document_id: int) -> dict[str, Any]:
    reason = schemas.parse_legal_hold(request.get_json(silent=True))
    return _legal_hold(document_id, hold=True, reason=reason)


@bp.delete("/documents/<int:document_id>/legal-hold")
@require_scope(Scope.ADMIN)
def lift_legal_hold(document_id: int) -> dict[str, Any]:
    return _legal_hold(document_id, hold=False, reason="")


def _legal_hold(document_id: int, *, hold: bool, reason: str) -> dict[str, Any]:
    """Place or lift the hold, and answer with the document as it stands after."""
    with unit_of_work() as db:
        document = documents.get_document(db, document_id)
        retention.set_legal_hold(
            db,
            runtime().store,
            document,
            hold=hold,
            reason=reason,
            actor=token_actor(),
            now=utcnow(),
        )
    return schemas.document_json(document)


@bp.post("/clients/<int:client_id>/termination")
@require_scope(Scope.RESTITUTION)
def terminate(client_id: int) -> tuple[dict[str, Any], int]:
    terminated_on, reason = schemas.parse_termination(request.get_json(silent=True))
    with unit_of_work() as db:
        client = clients.get_client(db, client_id)
        retention.terminate_client(
            db,
            runtime().store,
            client,
            on=terminated_on,
            reason=reason,
            policy=runtime().settings.retention,
            actor=token_actor(),
            now=utcnow(),
        )
    return {
        "client_id": client.id,
        "status": client.status.value,
        "terminated_on": terminated_on.isoformat(),
    }, 201


def _collaborators() -> Collaborators:
    return runtime().collaborators(utcnow())


def _link_url(endpoint: str) -> Callable[[str], str]:
    base = runtime().settings.base_url
    return lambda token: base + url_for(endpoint, token=token)


@bp.get("/clients/<int:client_id>/restitution")
@require_scope(Scope.RESTITUTION)
def restitution(client_id: int) -> Response:
    """The client's latest restitution archive, streamed; a GET never builds one (404 saying
    how to ask for one: POST on the same URL)."""
    db = db_session()
    document = archived_restitution(db, client_id)
    source = open_checked(db, runtime().store, document, actor=token_actor())
    return stream_response(document, source)


@bp.post("/clients/<int:client_id>/restitution")
@require_scope(Scope.RESTITUTION)
def request_restitution(client_id: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    """An archivist's request. The client's data unchanged since its latest archive: that
    archive is returned at once (200) and an expiring download link emailed to the client's
    contact (and returned). Otherwise the archive is built by a background job: 202 with the
    request's status resource (Location), pending until the archive is ready and the link
    emailed."""
    collab = hand_over()  # the workflow's transactions must not wait for the request's
    if not workflow.restitution_is_current(collab, client_id):
        request_id = workflow.order_restitution(collab, client_id, actor=token_actor())
        tasks.build_restitution.enqueue(request_id)
        location = url_for("archive_api.restitution_request", request_id=request_id)
        return _request_json(request_id), 202, {"Location": location}
    delivery = workflow.request_restitution(
        collab,
        client_id,
        actor=token_actor(),
        download_url=_link_url("restitution.download"),
    )
    record = delivery.built.record
    body = {
        "status": "ready",
        "document": schemas.document_json(record.document),
        "created": delivery.built.created,
        "files": record.files,
        "manifest_sha256": record.manifest_sha256,
        "download_url": delivery.download_url,
        "expires_at": delivery.expires_at.isoformat(),
        "mail_sent_to": delivery.mail_sent_to,
    }
    location = f"{schemas.documents_url()}/{record.document.id}"
    return body, 201 if delivery.built.created else 200, {"Location": location}


@bp.get("/restitution-requests/<int:request_id>")
@require_scope(Scope.RESTITUTION)
def restitution_request(request_id: int) -> dict[str, Any]:
    """A restitution being built: pending, then ready (the archive and where to read it; the
    download link itself went to the client's contact by mail) or failed (why)."""
    return _request_json(request_id)


def _request_json(request_id: int) -> dict[str, Any]:
    db = read_only_db_session()
    request_row = requests.get_request(db, request_id)
    document = db.get(Document, request_row.document_id) if request_row.document_id else None
    return schemas.restitution_request_json(
        request_row, document, requests.download_link(db, request_row)
    )


@bp.post("/clients/<int:client_id>/restitution-invitation")
@require_scope(Scope.RESTITUTION)
def invite_restitution(client_id: int) -> tuple[dict[str, Any], int]:
    """Email the client's contact an expiring link through which it requests its archive."""
    invitation = workflow.invite_contact(
        _collaborators(),
        client_id,
        actor=token_actor(),
        request_url=_link_url("restitution.request_page"),
    )
    return {
        "expires_at": invitation.expires_at.isoformat(),
        "mail_sent_to": invitation.mail_sent_to,
    }, 201
