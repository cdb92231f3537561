from __future__ import annotations

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, url_for
from flask import request as http_request
from werkzeug.wrappers import Response as BaseResponse

from app.auth.guards import require, signed_in_user
from app.auth.models import User
from app.auth.rules import Permission
from app.contracts import comparison, printing, queries, requested, retrying, tasks
from app.contracts.errors import AlreadyInContract, ContractInvalid, QuoteAlreadyContracted
from app.contracts.models import ContractVersion
from app.db import utcnow
from app.documents.serving import document_response
from app.messages import msg
from app.quotes.services import get_quote
from app.wiring import db_session, read_only_db_session, runtime, unit_of_work

bp = Blueprint("contracts", __name__, url_prefix="/contrats")


@bp.route("/")
@require(Permission.VIEW_CONTRACTS)
def index() -> str:
    return render_template("contracts/index.html", contracts=queries.all_contracts(db_session()))


def _is_id(raw: str) -> bool:
    # ASCII only: "²".isdigit() is True but int("²") fails
    return raw.isascii() and raw.isdigit() and len(raw) < 10


def clause_ids(raw: list[str]) -> list[int]:
    if not all(_is_id(v) for v in raw):
        raise ContractInvalid({"clause": msg("Clause inconnue.")})
    return [int(v) for v in raw]


def first_version(quote_id: int, choices: requested.Choices) -> BaseResponse:
    """Version 1 asked from the quote page (its form lives with the page, `overview`): checked
    at once (a refusal raises now), rendered by a job the page then follows."""
    try:
        with unit_of_work() as db:
            asked = requested.ask_first_version(
                db, get_quote(db, quote_id), choices, vendor=runtime().settings.vendor, now=utcnow()
            )
            generation_id = asked.id
    except QuoteAlreadyContracted as exc:
        return _already_contracted(exc)
    return _hand_to_job(generation_id)


def _choices(user: User) -> requested.Choices:
    return requested.Choices(
        author_id=user.id,
        clause_version_ids=clause_ids(http_request.form.getlist("clause")),
        free_text=http_request.form.get("free_text", ""),
    )


def _already_contracted(exc: AlreadyInContract) -> BaseResponse:
    """A second click on "generate" (or a retry, or a colleague first): the contract's page
    shows what exists."""
    flash(exc.detail, "info")
    return redirect(url_for("overview.contract", contract_id=exc.contract_id))


@bp.route("/<int:contract_id>/versions", methods=["POST"])
@require(Permission.GENERATE_CONTRACTS)
def new_version(contract_id: int) -> BaseResponse:
    """Checked at once (a refusal answers now); rendered by a job the page then follows."""
    form = http_request.form
    choices = _choices(signed_in_user())
    quote_raw = form.get("quote_id", "")
    if quote_raw and not _is_id(quote_raw):
        raise ContractInvalid({"quote_id": msg("Devis inconnu.")})
    based_on_raw = form.get("based_on", "")
    if based_on_raw and not _is_id(based_on_raw):
        raise ContractInvalid({"based_on": msg("Version d'origine inconnue : rechargez la page.")})
    try:
        with unit_of_work() as db:
            asked = requested.ask_new_version(
                db,
                queries.get_contract(db, contract_id),
                choices,
                vendor=runtime().settings.vendor,
                reason=form.get("reason", ""),
                based_on=int(based_on_raw) if based_on_raw else None,
                quote=get_quote(db, int(quote_raw)) if quote_raw else None,
                now=utcnow(),
            )
            generation_id = asked.id
    except AlreadyInContract as exc:
        return _already_contracted(exc)
    return _hand_to_job(generation_id)


def _hand_to_job(generation_id: int) -> BaseResponse:
    """Enqueue the rendering once the generation is committed. Rendered already (the queue
    runs inline, or a worker was quick): the contract's page; otherwise the follow page (a
    redirect either way: reloading it never posts the form again)."""
    tasks.generate_requested.enqueue(generation_id)
    state = requested.state_of(read_only_db_session(), generation_id, utcnow())
    return _contract_once_done(state) or redirect(
        url_for("contracts.generation", generation_id=generation_id)
    )


def _contract_once_done(state: requested.GenerationState) -> BaseResponse | None:
    if state.contract_id is None:
        return None
    flash(state.message, "success" if state.made else "info")
    return redirect(url_for("overview.contract", contract_id=state.contract_id))


@bp.route("/generations/<int:generation_id>")
@require(Permission.VIEW_CONTRACTS)
def generation(generation_id: int) -> BaseResponse:
    """The follow page while the job renders; once done, the contract's page (with what was
    made, or what existed already); a refusal met when rendering is shown here."""
    state = requested.state_of(read_only_db_session(), generation_id, utcnow())
    done = _contract_once_done(state)
    if done is not None:
        return done
    page = render_template(
        "contracts/generation.html",
        generation_id=generation_id,
        state=state,
        poll_after=requested.POLL_AFTER if state.pending else None,
    )
    return Response(page, status=200)


@bp.route("/generations/<int:generation_id>/relancer", methods=["POST"])
@require(Permission.GENERATE_CONTRACTS)
def retry_generation(generation_id: int) -> BaseResponse:
    """A failed generation asked again (same choices, a new generation and job), checked at
    once like the first request."""
    try:
        with unit_of_work() as db:
            asked = retrying.ask_again(
                db,
                generation_id,
                signed_in_user().id,
                vendor=runtime().settings.vendor,
                now=utcnow(),
            )
            again_id = asked.id
    except AlreadyInContract as exc:
        return _already_contracted(exc)
    return _hand_to_job(again_id)


@bp.route("/generations/<int:generation_id>/suivi.json")
@require(Permission.VIEW_CONTRACTS)
def generation_progress(generation_id: int) -> Response:
    """Where the generation stands, polled by its page; `poll_after` is null once done."""
    state = requested.state_of(read_only_db_session(), generation_id, utcnow())
    contract_url = (
        url_for("overview.contract", contract_id=state.contract_id)
        if state.contract_id is not None
        else None
    )
    return jsonify(
        poll_after=requested.POLL_AFTER if state.pending else None,
        stage=state.stage,
        message=state.message,
        contract_url=contract_url,
    )


@bp.route("/<int:contract_id>/comparer")
@require(Permission.VIEW_CONTRACTS)
def compare(contract_id: int) -> str:
    contract = queries.get_contract(db_session(), contract_id)
    numbers = [v.version for v in contract.versions]
    first = http_request.args.get("de", type=int) or numbers[0]
    second = http_request.args.get("a", type=int) or numbers[-1]
    changes = comparison.compare_versions(contract, first, second)
    return render_template(
        "contracts/compare.html", contract=contract, first=first, second=second, changes=changes
    )


def _version(contract_id: int, number: int) -> ContractVersion:
    return queries.get_version(db_session(), contract_id, number)


@bp.route("/<int:contract_id>/v<int:number>.pdf")
@require(Permission.VIEW_CONTRACTS)
def pdf(contract_id: int, number: int) -> Response:
    version = _version(contract_id, number)
    return document_response(
        db_session(),
        runtime().store,
        version.document,
        actor=_user_actor(),
        download=False,
        cache_control=None,
    )


def _user_actor() -> str:
    return f"user:{signed_in_user().id}"


@bp.route("/<int:contract_id>/v<int:number>.docx")
@require(Permission.VIEW_CONTRACTS)
def docx(contract_id: int, number: int) -> Response:
    version = _version(contract_id, number)
    rt = runtime()
    data = printing.contract_docx(version, rt.settings.vendor, rt.settings.contract_templates_dir)
    response = Response(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    filename = f"{version.contract.number}-v{version.version}.docx"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
