from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask import request as http_request
from werkzeug.wrappers import Response as BaseResponse

from app.auth.guards import current_user, require
from app.auth.rules import Permission
from app.clauses.services import get_versions, list_clauses
from app.clock import business_date
from app.contracts import comparison, generation, printing, queries
from app.contracts.errors import ContractInvalid, QuoteAlreadyContracted, VersionAlreadyCreated
from app.contracts.models import ContractVersion
from app.db import utcnow
from app.documents.serving import document_response
from app.quotes.services import get_quote, quotes_of
from app.rendering.contract import ParticularTerm
from app.rendering.markdown import markdown_to_html
from app.signatures.revisions import requests_for_version
from app.terms.acceptances import is_client_behind, opposable_for
from app.wiring import db_session, runtime

bp = Blueprint("contracts", __name__, url_prefix="/contrats")


@bp.route("/")
@require(Permission.VIEW_CONTRACTS)
def index() -> str:
    return render_template("contracts/index.html", contracts=queries.all_contracts(db_session()))


def _is_id(raw: str) -> bool:
    # ASCII only: "²".isdigit() is True but int("²") fails
    return raw.isascii() and raw.isdigit() and len(raw) < 10


def _clause_ids(raw: list[str]) -> list[int]:
    if not all(_is_id(v) for v in raw):
        raise ContractInvalid({"clause": "Clause inconnue."})
    return [int(v) for v in raw]


@bp.route("/generer/<int:quote_id>", methods=["POST"])
@require(Permission.GENERATE_CONTRACTS)
def generate(quote_id: int) -> BaseResponse:
    rt = runtime()
    db = db_session()
    user = current_user()
    assert user is not None
    quote = get_quote(db, quote_id)
    picked = _clause_ids(http_request.form.getlist("clause"))
    try:
        version = generation.generate_contract(
            db,
            rt.store,
            quote=quote,
            vendor=rt.settings.vendor,
            now=utcnow(),
            actor=f"user:{user.id}",
            author_id=user.id,
            templates_dir=rt.settings.contract_templates_dir,
            clauses=get_versions(db, picked),
            free_text=http_request.form.get("free_text", ""),
            countersigner=printing.Countersigner.for_vendor(
                rt.settings.vendor, user.full_name, user.email
            ),
        )
    except QuoteAlreadyContracted as exc:
        return _already_contracted(exc)
    db.commit()
    flash(f"Contrat {version.contract.number} (version 1) généré.", "success")
    return redirect(url_for("contracts.show", contract_id=version.contract_id))


def _already_contracted(exc: QuoteAlreadyContracted) -> BaseResponse:
    """A second click on "generate" (or a retry): the contract the quote already became."""
    db_session().rollback()
    flash(exc.detail, "info")
    return redirect(url_for("contracts.show", contract_id=exc.contract_id))


@bp.route("/<int:contract_id>")
@require(Permission.VIEW_CONTRACTS)
def show(contract_id: int) -> str:
    db = db_session()
    contract = queries.get_contract(db, contract_id)
    requests = {v.id: requests_for_version(db, v.id) for v in contract.versions}
    today = business_date(utcnow())
    cgv_behind = {
        v.id: opposable_for(db, contract.client_id, today).version
        for v in contract.versions
        if is_client_behind(db, contract.client_id, v.cgv_version, today)
    }
    return render_template(
        "contracts/show.html",
        contract=contract,
        requests=requests,
        cgv_behind=cgv_behind,
        clauses=list_clauses(db),
        quotes=[q for q in quotes_of(db, contract.client_id) if q.status.value == "draft"],
        printed={v.id: [_preview(t) for t in printing.printed_terms(v)] for v in contract.versions},
    )


def _preview(term: ParticularTerm) -> dict[str, object]:
    """A particular term as the PDF prints it: a library clause's Markdown as inert HTML (the
    contract's renderer), typed text as typed (shown by the template in a pre-wrap block)."""
    html = markdown_to_html(term.body, heading_offset=3) if term.markdown else None
    return {"title": term.title, "body": term.body, "html": html}


@bp.route("/<int:contract_id>/versions", methods=["POST"])
@require(Permission.GENERATE_CONTRACTS)
def new_version(contract_id: int) -> BaseResponse:
    rt = runtime()
    db = db_session()
    user = current_user()
    assert user is not None
    contract = queries.get_contract(db, contract_id)
    form = http_request.form
    picked = _clause_ids(form.getlist("clause"))
    quote_raw = form.get("quote_id", "")
    if quote_raw and not _is_id(quote_raw):
        raise ContractInvalid({"quote_id": "Devis inconnu."})
    quote = get_quote(db, int(quote_raw)) if quote_raw else None
    based_on_raw = form.get("based_on", "")
    if based_on_raw and not _is_id(based_on_raw):
        raise ContractInvalid({"based_on": "Version d'origine inconnue : rechargez la page."})
    try:
        version = generation.new_version(
            db,
            rt.store,
            contract=contract,
            reason=form.get("reason", ""),
            vendor=rt.settings.vendor,
            now=utcnow(),
            actor=f"user:{user.id}",
            author_id=user.id,
            quote=quote,
            templates_dir=rt.settings.contract_templates_dir,
            clauses=get_versions(db, picked),
            free_text=form.get("free_text", ""),
            based_on=int(based_on_raw) if based_on_raw else None,
        )
    except QuoteAlreadyContracted as exc:
        return _already_contracted(exc)
    except VersionAlreadyCreated as exc:
        # a second click (or a colleague first): the contract's page shows the version made
        db.rollback()
        flash(exc.detail, "info")
        return redirect(url_for("contracts.show", contract_id=exc.contract_id))
    db.commit()
    kind = "avenant" if version.amendment else "version"
    flash(f"Contrat {contract.number} : {kind} {version.version} générée.", "success")
    return redirect(url_for("contracts.show", contract_id=contract.id))


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
    contract = queries.get_contract(db_session(), contract_id)
    for version in contract.versions:
        if version.version == number:
            return version
    abort(404, f"Le contrat {contract.number} n'a pas de version {number}.")


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
    user = current_user()
    assert user is not None  # the route's guard let a signed-in user through
    return f"user:{user.id}"


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


@bp.route("/<int:contract_id>/v<int:number>/signe.pdf")
@require(Permission.VIEW_CONTRACTS)
def signed_pdf(contract_id: int, number: int) -> Response:
    version = _version(contract_id, number)
    for request in requests_for_version(db_session(), version.id):
        if request.signed_document is not None:
            return document_response(
                db_session(),
                runtime().store,
                request.signed_document,
                actor=_user_actor(),
                download=True,
                cache_control=None,
            )
    abort(404, "Cette version n'est pas encore signée.")
