"""The client's restitution pages (no account: the emailed link is the credential)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.archive.mails import download_mail, send_mail
from app.archive.models import LinkPurpose
from app.archive.openapi import openapi_spec
from app.archive.restitution import archive_of_link, find_link, request_by_link
from app.archive.restitution import download as download_archive
from app.clients.services import find_client
from app.db import utcnow
from app.documents.errors import DocumentIntegrityFailed
from app.documents.serving import open_checked, stream_response
from app.extensions import limiter
from app.forms import FrenchForm
from app.pki import trust_roots
from app.wiring import db_session, runtime, unit_of_work

bp = Blueprint("restitution", __name__, url_prefix="/restitution")
limiter.limit("30 per minute")(bp)


class RequestForm(FrenchForm):
    """Only the CSRF token: the click is the request."""


@bp.get("/demande/<token>")
def request_page(token: str) -> str:
    # An unknown, expired or used link: RestitutionLinkGone, answered with the restitution's
    # own page by the error table (app.error_table), like every route below.
    link = find_link(db_session(), token, purpose=LinkPurpose.REQUEST, now=utcnow())
    return render_template("restitution/request.html", form=RequestForm(), link=link)


@bp.post("/demande/<token>")
def request_archive(token: str) -> str | tuple[str, int] | BaseResponse:
    rt = runtime()
    db = db_session()
    form = RequestForm()
    now = utcnow()
    link = find_link(db, token, purpose=LinkPurpose.REQUEST, now=now)
    if not form.validate_on_submit():
        return render_template("restitution/request.html", form=form, link=link), 422
    with unit_of_work(commit_on=(DocumentIntegrityFailed,)):
        try:
            document, download_link, download_token = request_by_link(
                db,
                rt.store,
                link,
                now=now,
                seal_key=rt.seal_key(),
                trust_roots=trust_roots(rt.settings),
                retention=rt.settings.retention,
            )
        except DocumentIntegrityFailed:
            # Journaled (committed on the way out); the link stays usable for when the
            # document has been restored.
            link.used_at = None
            raise
    contact = find_client(db, link.client_id)
    url = rt.settings.base_url + url_for("restitution.download", token=download_token)
    sent = contact is not None and send_mail(
        rt.mailer, download_mail(contact, url, download_link.expires_at)
    )
    return render_template(
        "restitution/ready.html",
        document=document,
        token=download_token,
        expires_at=download_link.expires_at,
        sent=sent,
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
