"""The client's restitution pages (no account: the emailed link is the credential)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.archive import tasks, workflow
from app.archive.models import LinkPurpose, RestitutionStatus
from app.archive.openapi import openapi_spec
from app.archive.restitution import requests
from app.archive.restitution.links import archive_of_link, find_link
from app.archive.restitution.links import download as download_archive
from app.db import utcnow
from app.documents.serving import open_checked, stream_response
from app.extensions import limiter
from app.forms import FrenchForm
from app.wiring import db_session, hand_over, runtime, unit_of_work

bp = Blueprint("restitution", __name__, url_prefix="/restitution")
limiter.limit("30 per minute")(bp)


class RequestForm(FrenchForm):
    """Only the CSRF token: the click is the request."""


@bp.get("/demande/<token>")
def request_page(token: str) -> str:
    # An unknown, expired or used link: RestitutionLinkGone, answered by the error table's
    # own page (restitution/gone.html, 410).
    link = find_link(db_session(), token, purpose=LinkPurpose.REQUEST, now=utcnow())
    return render_template("restitution/request.html", form=RequestForm(), link=link)


@bp.post("/demande/<token>")
def request_archive(token: str) -> str | tuple[str, int] | BaseResponse:
    """The contact's request. Its client's data unchanged since the latest archive: the
    download link at once. Otherwise the archive is built by a background job and this page
    follows it (`request_status`) until the link is mailed."""
    form = RequestForm()
    if not form.validate_on_submit():
        link = find_link(db_session(), token, purpose=LinkPurpose.REQUEST, now=utcnow())
        return render_template("restitution/request.html", form=form, link=link), 422
    collab = hand_over()  # the workflow's transactions must not wait for the request's
    client_id = workflow.client_of_request_link(collab, token)
    if not workflow.restitution_is_current(collab, client_id):
        tasks.build_restitution.enqueue(workflow.order_by_link(collab, token))
        return render_template("restitution/pending.html", token=token), 202
    base = runtime().settings.base_url
    delivery = workflow.request_by_link(
        collab,
        token,
        download_url=lambda t: base + url_for("restitution.download", token=t),
    )
    return render_template(
        "restitution/ready.html",
        document=delivery.built.record.document,
        token=delivery.download_token,
        expires_at=delivery.expires_at,
        sent=delivery.mail_sent_to is not None,
    )


@bp.get("/demande/<token>/etat")
def request_status(token: str) -> dict[str, Any]:
    """Where the contact's request stands (polled by its page): pending, ready (the link
    went by mail) or failed, with a French sentence to show."""
    request_row = requests.request_of_link(db_session(), token)
    return {"status": request_row.status.value, "message": _STATUS_TEXT[request_row.status]}


_STATUS_TEXT = {
    RestitutionStatus.PENDING: "Votre archive est en préparation…",
    RestitutionStatus.READY: (
        "Votre archive est prête : le lien de téléchargement vous a été envoyé par courriel."
    ),
    RestitutionStatus.FAILED: (
        "L'archive n'a pas pu être produite : un document est endommagé. L'éditeur en est "
        "informé ; votre lien de demande restera valable une fois le document restauré."
    ),
}


@bp.get("/archive/<token>")
def download(token: str) -> Response:
    rt = runtime()
    now = utcnow()
    with unit_of_work() as db:
        link = find_link(db, token, purpose=LinkPurpose.DOWNLOAD, now=now)
        document = archive_of_link(db, link)
        actor = f"contact:client-{link.client_id}"
        # Checked (failure journaled, 503) before the download is journaled as done.
        source = open_checked(db, rt.store, document, actor=actor)
        download_archive(db, link, now=now, actor=actor)
    return stream_response(document, source)


docs_bp = Blueprint("api_docs", __name__)


@docs_bp.get("/documentation/api")
def api_documentation() -> str:
    """The API reference, rendered on the server from the OpenAPI description (no script,
    no external asset). Public: it documents the interface, not any data."""
    return render_template("restitution/api_docs.html", spec=openapi_spec())
