"""The signer's pages (no account: the link is the credential)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from app.db import utcnow
from app.documents.models import Document
from app.documents.serving import document_response
from app.error_table import status_of
from app.errors import DomainError, FieldErrors
from app.extensions import limiter
from app.mail import MailError
from app.signatures import (
    codes,
    links,
    mails,
    page_images,
    progress,
    sending,
    signing_flow,
    tasks,
    workflow,
)
from app.signatures.errors import (
    ConsentMissing,
    NotAuthenticated,
    NotYourTurn,
    SignatureInProgress,
    SignerLocked,
    SigningLinkGone,
)
from app.signatures.models import Signer, SignerStatus
from app.signatures.rules import agreement_text, cgv_consent_text, consents_to_cgv
from app.tokens import token_hash
from app.wiring import db_session, runtime, unit_of_work
from storage import BlobCorrupted, BlobNotFound

bp = Blueprint("signing", __name__, url_prefix="/signature")
# Per IP: enough for a person, too few to scan for tokens (256-bit tokens make that moot anyway).
limiter.limit("60 per minute")(bp)


@bp.errorhandler(SigningLinkGone)
def link_gone(exc: SigningLinkGone) -> tuple[str, int]:
    """Every signer page answers a link that no longer works with the same page (410), which
    offers the signed document when there is one. (To move into the central error table of
    `app/http_errors.py` once it renders a per-error template.)"""
    token = str((request.view_args or {}).get("token", ""))
    db_session().rollback()  # whatever the refused view read or wrote is not kept
    return render_template(
        "signing/gone.html", detail=exc.detail, token=token, signed=_is_signed(token)
    ), 410


@bp.errorhandler(SignatureInProgress)
def signature_in_progress(exc: SignatureInProgress) -> tuple[str, int]:
    """An action of a signer whose consent is recorded (decline, a code asked for or
    entered): refused with the page that follows the signature, never an error page that
    reads as if the consent were lost. Another signer's decline meanwhile: their own page,
    with the refusal. Nothing the refused view read or wrote is kept."""
    db_session().rollback()
    token = str((request.view_args or {}).get("token", ""))
    followed = progress.signer_progress(db_session(), token, utcnow())
    if followed.signer.status is not SignerStatus.SIGNING:
        return _render_page(followed.signer, token, exc.detail, status_of(exc))
    return _progress_page(token, followed, notice=exc.detail), status_of(exc)


def _client_ip() -> str | None:
    return request.remote_addr


def _pdf(document: Document, *, actor: str, download: bool) -> Response:
    """An archived PDF, read through the archive's integrity check (read journaled; a damaged
    or missing blob is journaled and answered with the French 503 page)."""
    return document_response(
        db_session(), runtime().store, document, actor=actor, download=download
    )


@bp.route("/<token>", methods=["GET"])
def page(token: str) -> str | tuple[str, int] | BaseResponse:
    with unit_of_work() as db:
        signer = links.open_link(
            db, token, now=utcnow(), ip=_client_ip(), user_agent=request.user_agent.string
        )
    if signer.status is SignerStatus.SIGNING:  # consented: the page after follows the job
        return redirect(url_for("signing.done", token=token))
    document_id = signer.request.contract_version.document.id
    if not page_images.pages_of(db, document_id):
        # Sent before page images existed, or their job was lost: ask again (a job, never
        # rendered here); the page offers the PDF meanwhile.
        tasks.render_page_images.enqueue(document_id)
    return _render_page(signer, token)


def _is_signed(token: str) -> bool:
    try:
        links.signed_document_for(db_session(), token, utcnow())
    except DomainError:  # any refusal means: nothing to download
        return False
    return True


def _authenticated_here(token: str) -> bool:
    """Whether this browser entered a valid code for the link (the session cookie is signed)."""
    return token_hash(token) in session.get("signing_auth", [])


def _render_page(
    signer: Signer,
    token: str,
    error: str | None = None,
    status: int = 200,
    notice: str | None = None,
) -> tuple[str, int]:
    version = signer.request.contract_version
    cgv = version.cgv_version
    return render_template(
        "signing/page.html",
        pages=page_images.pages_of(db_session(), version.document.id),
        authenticated=_authenticated_here(token) and signer.authenticated_at is not None,
        locked=signer.otp_locked_at is not None,
        notice=notice,
        signer=signer,
        version=version,
        cgv=cgv,
        token=token,
        error=error,
        # only the client's signers are asked to accept the CGV (the vendor's own terms)
        cgv_consent=(
            cgv_consent_text(cgv.label, cgv.effective_date)
            if consents_to_cgv(signer.party)
            else None
        ),
        agreement=agreement_text(version.contract.number, version.version),
    ), status


@bp.route("/<token>/contrat.pdf")
def contract_pdf(token: str) -> Response:
    if _authenticated_here(token):
        # Counted as a view only from the browser that entered the code (signer.viewed).
        with unit_of_work() as work:
            links.mark_viewed(work, token, now=utcnow())
    signer = links.find_signer(db_session(), token, utcnow(), allow_signed=True)
    document = signer.request.contract_version.document
    return _pdf(document, actor=f"signer:{signer.id}", download=False)


@bp.route("/<token>/pages/<int:page>.png")
def page_image(token: str, page: int) -> Response:
    """One page of the contract as an image (rendered by the job `signatures.page_images`)."""
    db = db_session()
    signer = links.find_signer(db, token, utcnow(), allow_signed=True)
    image = page_images.page_of(db, signer.request.contract_version.document.id, page)
    if image is None:
        abort(404)
    try:
        data = runtime().store.get(image.sha256)  # the store checks the bytes against the key
    except (BlobCorrupted, BlobNotFound):
        # A derived image, not an archived document: the PDF link stays the way to read.
        current_app.logger.warning(
            "page image %s of document %s unreadable", page, image.document_id
        )
        abort(503)
    response = Response(data, mimetype="image/png")
    # Private: the link is the credential; the bytes of a page never change (content key).
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["ETag"] = f'"{image.sha256}"'
    return response


@bp.route("/<token>/pages")
@limiter.limit("90 per minute")  # a page polling every 2 s, with room for a second tab
def page_images_fragment(token: str) -> Response:
    """The contract's page images as an HTML fragment for the signing page that waits for them
    (static/pages-status.js); 204 while they are not rendered yet. A GET: reads only (the
    signing page itself asked for the rendering)."""
    db = db_session()
    signer = links.find_signer(db, token, utcnow(), allow_signed=True)
    version = signer.request.contract_version
    pages = page_images.pages_of(db, version.document.id)
    if pages:
        fragment = render_template("signing/_pages.html", pages=pages, token=token, version=version)
        response = Response(fragment, mimetype="text/html")
    else:
        response = Response(status=204)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<token>/cgv.pdf")
def cgv_pdf(token: str) -> Response:
    """The CGV version the signer is asked to accept, on its own (rendered once, archived)."""
    with unit_of_work() as db:
        document = links.cgv_document(
            db,
            runtime().store,
            token,
            vendor_name=runtime().settings.vendor.legal_name,
            now=utcnow(),
        )
    signer = links.find_signer(db, token, utcnow(), allow_signed=True)
    return _pdf(document, actor=f"signer:{signer.id}", download=False)


@bp.route("/<token>", methods=["POST"])
@limiter.limit("10 per minute")
def sign(token: str) -> BaseResponse | tuple[str, int]:
    """Record the consent in one short transaction and answer at once: the PAdES signature
    (key, TSA) is the job `signatures.sign`, followed on the page after (issue 14)."""
    now = utcnow()
    try:
        consent = signing_flow.record_consent(
            runtime().collaborators(now),
            token,
            accepted_cgv=request.form.get("accept_cgv") == "oui",
            agreed=request.form.get("agree") == "oui",
            authenticated=_authenticated_here(token),
            ip=_client_ip(),
            user_agent=request.user_agent.string,
        )
    except (ConsentMissing, NotAuthenticated, SignerLocked) as exc:
        signer = links.find_signer(db_session(), token, now)
        return _render_page(signer, token, error=exc.detail, status=status_of(exc))
    if consent.recorded:  # a second POST finds the consent: its job is already asked for
        tasks.sign_consented.enqueue(consent.signer_id)
    return redirect(url_for("signing.done", token=token))


def _link_key() -> str:
    """Rate-limit key per link (the token's hash: the token itself never reaches storage)."""
    return "link:" + token_hash(str((request.view_args or {}).get("token", "")))


@bp.route("/<token>/code", methods=["POST"])
@limiter.limit("5 per 10 minutes", key_func=_link_key)
@limiter.limit("20 per hour")
def send_code(token: str) -> tuple[str, int]:
    rt = runtime()
    now = utcnow()
    try:
        with unit_of_work() as db:
            issued = codes.issue_code(db, token, now=now, secret=rt.settings.secret_key)
            mail = mails.code_mail(issued, vendor=rt.settings.vendor.legal_name)
    except (SignerLocked, NotYourTurn) as exc:  # refused: nothing issued, nothing kept
        signer = links.find_signer(db_session(), token, now)
        return _render_page(signer, token, exc.detail, status_of(exc))
    try:
        rt.mailer.send(mail)
    except MailError:
        return _render_page(
            issued.signer, token, "Le code n'a pas pu être envoyé ; réessayez dans un instant.", 503
        )
    return _render_page(
        issued.signer, token, notice=f"Un code à 6 chiffres a été envoyé à {issued.signer.email}."
    )


@bp.route("/<token>/verifier", methods=["POST"])
@limiter.limit("10 per 10 minutes", key_func=_link_key)
def verify_code(token: str) -> BaseResponse | tuple[str, int]:
    rt = runtime()
    now = utcnow()
    with unit_of_work() as db:  # a failure is counted whatever happens next
        check = codes.verify_code(
            db,
            token,
            request.form.get("code", "")[:20],
            now=now,
            secret=rt.settings.secret_key,
            ip=_client_ip(),
            user_agent=request.user_agent.string,
        )
        alert = None
        if check.locked and check.signer.otp_locked_at == now:
            alert = mails.locked_mail(
                check.signer, sending.sender_email(db, check.signer.request, rt.settings.mail_from)
            )
    if alert is not None:
        for error in workflow.send_all(rt.mailer, [alert]):
            current_app.logger.warning("lock notice not sent: %s", error)
    if not check.ok:
        refusal = codes.code_refusal(check, now)
        return _render_page(check.signer, token, refusal.detail, status_of(refusal))
    session["signing_auth"] = [*session.get("signing_auth", [])[-9:], token_hash(token)]
    return redirect(url_for("signing.page", token=token))


@bp.route("/<token>/refuser", methods=["POST"])
@limiter.limit("10 per minute")
def decline(token: str) -> BaseResponse | tuple[str, int]:
    db = db_session()
    now = utcnow()
    if not _authenticated_here(token):
        signer = links.acting_signer(db, token, now)
        return _render_page(signer, token, "Saisissez d'abord le code reçu par e-mail.", 403)
    try:
        workflow.decline(
            runtime().collaborators(now), token, request.form.get("reason", ""), ip=_client_ip()
        )
    except FieldErrors as exc:
        signer = links.find_signer(db, token, now)
        return _render_page(signer, token, error=exc.errors["reason"], status=422)
    # The workflow mailed the parties after its commit; a failure is logged there.
    return render_template(
        "signing/gone.html",
        detail="Vous avez refusé de signer ; l'expéditeur est prévenu.",
        token=token,
        signed=False,
    ), 200


@bp.route("/<token>/termine")
def done(token: str) -> str | BaseResponse:
    """After the consent: what happens next. The page follows the signature (a job), then
    for the last signer the seal (another), by polling `progress_state`; without JavaScript,
    a link reloads it."""
    followed = progress.signer_progress(db_session(), token, utcnow())
    if followed.signer.status not in (SignerStatus.SIGNING, SignerStatus.SIGNED):
        return redirect(url_for("signing.page", token=token))
    return _progress_page(token, followed)


def _progress_page(
    token: str, followed: progress.SignerProgress | None = None, notice: str | None = None
) -> str:
    if followed is None:
        followed = progress.signer_progress(db_session(), token, utcnow())
    signer = followed.signer
    return render_template(
        "signing/done.html",
        signer=signer,
        token=token,
        notice=notice,
        progress=followed,
        document=signer.request.signed_document if followed.downloadable else None,
        others=[
            s
            for s in signer.request.signers
            if s.id != signer.id and s.status is not SignerStatus.SIGNED
        ],
    )


@bp.route("/<token>/etat")
@limiter.limit("90 per minute")  # a page polling every 2 s, with room for a second tab
def progress_state(token: str) -> Response:
    """The signature's, then the seal's progress for the signer's page, as JSON (a GET:
    reads only)."""
    followed = progress.signer_progress(db_session(), token, utcnow())
    document = followed.signer.request.signed_document if followed.downloadable else None
    response = jsonify(
        stage=followed.stage,
        message=followed.message,
        poll_after=followed.poll_after,
        download_url=url_for("signing.signed_pdf", token=token) if document else None,
        sha256=document.sha256 if document else None,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<token>/document-signe.pdf")
def signed_pdf(token: str) -> Response:
    db = db_session()
    now = utcnow()
    document = links.signed_document_for(db, token, now)
    signer = links.find_signer(db, token, now, allow_signed=True)
    return _pdf(document, actor=f"signer:{signer.id}", download=True)


@bp.route("/document/<token>")
def download(token: str) -> Response:
    """The sealed PDF, from the link mailed to every signer at completion."""
    document = links.document_for_download_token(db_session(), token, utcnow())
    # The holder of a completion link (any signer of the request): named by the link's hash.
    return _pdf(document, actor=f"download-link:{token_hash(token)[:16]}", download=True)
