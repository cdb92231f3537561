"""The pages of sales and operators: send a contract version, cancel or resend a request, the
evidence file, the requests waiting for their seal."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from app.auth.guards import require, signed_in_user
from app.auth.rules import Permission
from app.contracts.queries import get_version
from app.db import utcnow
from app.documents.serving import document_response
from app.messages import msg
from app.signatures import evidence as evidence_files
from app.signatures import revisions, schemas, tasks, workflow
from app.signatures import seal as sealing
from app.signatures.errors import AlreadySent, RevisionIntegrityFailed
from app.wiring import db_session, runtime
from signing import SigningError

# Sending keeps its address under the contract's page, where the button is.
sending_bp = Blueprint("signature_sending", __name__, url_prefix="/contrats")


@sending_bp.route("/<int:contract_id>/v<int:number>/envoyer", methods=["POST"])
@require(Permission.SEND_FOR_SIGNATURE)
def send(contract_id: int, number: int) -> BaseResponse:
    user = signed_in_user()
    user_id = user.id
    db_session().rollback()  # the guard's read ends here: the workflow has its own transactions
    try:
        every = schemas.form_cadence(request.form.get("reminder_every_days", ""))
    except ValueError:
        flash("Rythme de relance invalide : rien n'a été envoyé.", "error")
        return redirect(url_for("overview.contract", contract_id=contract_id))
    try:
        sent = workflow.send_version(
            runtime().collaborators(utcnow()),
            contract_id,
            number,
            user_id=user_id,
            parallel=request.form.get("order") == "parallel",
            reminder_every_days=every,
        )
    except AlreadySent as exc:  # a second click (or a retry): the page shows its request
        flash(exc.detail, "info")
    except SigningError as exc:
        current_app.logger.warning("contract %s not sent: %s", contract_id, exc)
        flash(
            "Le contrat n'a pas pu être certifié (service d'horodatage indisponible) : "
            "rien n'a été envoyé, réessayez dans quelques minutes.",
            "error",
        )
    else:
        tasks.after_send(sent.document_id)
        if sent.mail_errors:
            flash(
                f"La demande est créée mais l'e-mail n'a pas pu partir : {sent.mail_errors[0]}",
                "error",
            )
        else:
            flash(
                f"Contrat envoyé pour signature à {', '.join(m.to for m in sent.mails)}.", "success"
            )
    return redirect(url_for("overview.contract", contract_id=contract_id))


@sending_bp.route("/<int:contract_id>/v<int:number>/signe.pdf")
@require(Permission.VIEW_CONTRACTS)
def signed_pdf(contract_id: int, number: int) -> Response:
    db = db_session()
    version = get_version(db, contract_id, number)
    document = revisions.signed_document_of_version(db, version.id)
    if document is None:
        abort(404, msg("Cette version n'est pas encore signée."))
    user = signed_in_user()
    return document_response(
        db, runtime().store, document, actor=f"user:{user.id}", download=True, cache_control=None
    )


requests_bp = Blueprint("signature_requests", __name__, url_prefix="/demandes-signature")


@requests_bp.route("/<int:request_id>/annuler", methods=["POST"])
@require(Permission.SEND_FOR_SIGNATURE)
def cancel(request_id: int) -> BaseResponse:
    user_id = _user_id()
    db_session().rollback()  # the guard's read ends here: the workflow has its own transactions
    done = workflow.cancel(
        runtime().collaborators(utcnow()),
        request_id,
        request.form.get("reason", "")[:2000],
        user_id=user_id,
    )
    errors = done.mail_errors
    flash(
        "Demande annulée ; les signataires sont prévenus."
        if not errors
        else f"Demande annulée, mais un e-mail n'est pas parti : {errors[0]}",
        "success" if not errors else "error",
    )
    return redirect(url_for("overview.contract", contract_id=done.contract_id))


@requests_bp.route("/<int:request_id>/renvoyer", methods=["POST"])
@require(Permission.SEND_FOR_SIGNATURE)
def resend(request_id: int) -> BaseResponse:
    user_id = _user_id()
    db_session().rollback()  # the guard's read ends here: the workflow has its own transactions
    done = workflow.resend(runtime().collaborators(utcnow()), request_id, user_id=user_id)
    errors = done.mail_errors
    flash(
        f"Nouveau lien envoyé à {', '.join(m.to for m in done.mails)}."
        if not errors
        else f"Un e-mail n'est pas parti : {errors[0]}",
        "success" if not errors else "error",
    )
    return redirect(url_for("overview.contract", contract_id=done.contract_id))


def _user_id() -> int:
    user = signed_in_user()
    return user.id


@requests_bp.route("/<int:request_id>/preuve.<any(pdf, json):fmt>")
@require(Permission.VIEW_CONTRACTS)
def evidence(request_id: int, fmt: str) -> Response:
    """The sealed evidence file (PDF) or its JSON form, for sales and archivists."""
    db = db_session()
    document = evidence_files.evidence_file(db, request_id, as_json=fmt == "json")
    user = signed_in_user()
    return document_response(
        db, runtime().store, document, actor=f"user:{user.id}", download=True, cache_control=None
    )


@requests_bp.route("/cachet-en-attente")
@require(Permission.OPERATE_SIGNATURES)
def stuck() -> str:
    """Requests signed by everyone whose platform seal did not finish (the sweeper retries)."""
    return render_template("signing/stuck.html", requests=sealing.stuck_requests(db_session()))


@requests_bp.route("/<int:request_id>/sceller", methods=["POST"])
@require(Permission.OPERATE_SIGNATURES)
def seal_now(request_id: int) -> BaseResponse:
    db_session().rollback()  # the guard's read ends here: the workflow has its own transactions
    try:
        outgoing = workflow.seal(runtime().collaborators(utcnow()), request_id)
    except SigningError as exc:
        flash(f"Le cachet a encore échoué : {exc}", "error")
    except RevisionIntegrityFailed as exc:  # journaled and recorded on the request
        flash(f"Le cachet a encore échoué : {exc.detail}", "error")
    else:
        flash("Demande scellée." if outgoing is not None else "Rien à sceller.", "success")
    return redirect(url_for("signature_requests.stuck"))
