from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask import request as http_request
from werkzeug.wrappers import Response as BaseResponse

from app.auth.guards import current_user, require
from app.auth.rules import Permission
from app.clauses.services import get_versions
from app.contracts import comparison, generation, printing, queries
from app.contracts.errors import ContractInvalid, QuoteAlreadyContracted, VersionAlreadyCreated
from app.contracts.models import ContractVersion
from app.db import utcnow
from app.documents.serving import document_response
from app.quotes.services import get_quote
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
    return redirect(url_for("overview.contract", contract_id=version.contract_id))


def _already_contracted(exc: QuoteAlreadyContracted) -> BaseResponse:
    """A second click on "generate" (or a retry): the contract the quote already became."""
    db_session().rollback()
    flash(exc.detail, "info")
    return redirect(url_for("overview.contract", contract_id=exc.contract_id))


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
        return redirect(url_for("overview.contract", contract_id=exc.contract_id))
    db.commit()
    kind = "avenant" if version.amendment else "version"
    flash(f"Contrat {contract.number} : {kind} {version.version} générée.", "success")
    return redirect(url_for("overview.contract", contract_id=contract.id))


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
