"""The client's restitution pages (no account: the emailed link is the credential)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.archive.models import LinkPurpose
from app.archive.openapi import openapi_spec
from app.archive.restitution.links import archive_of_link, find_link
from app.archive.restitution.links import download as download_archive
from app.archive.workflow import request_by_link
from app.db import utcnow
from app.documents.serving import open_checked, stream_response
from app.extensions import limiter
from app.forms import FrenchForm
from app.wiring import db_session, runtime, unit_of_work

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
    form = RequestForm()
    if not form.validate_on_submit():
        link = find_link(db_session(), token, purpose=LinkPurpose.REQUEST, now=utcnow())
        return render_template("restitution/request.html", form=form, link=link), 422
    base = runtime().settings.base_url
    delivery = request_by_link(
        runtime().collaborators(utcnow()),
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
