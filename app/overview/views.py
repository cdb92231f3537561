"""The client page (its quotes, contracts and CGV status), the quote page (its contract and the
clauses to generate one with) and the contract page (its versions, their signature requests,
the CGV behind). URLs under /clients, /devis and /contrats, as before the move."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from typing import TYPE_CHECKING

from flask import Blueprint, Response, jsonify, render_template, url_for
from flask import request as http_request
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from app.auth.guards import require, signed_in_user
from app.auth.rules import Permission
from app.clock import business_date
from app.contracts import printing, requested, schemas
from app.contracts import views as contract_views
from app.contracts.errors import ContractInvalid
from app.contracts.models import VersionStatus
from app.db import utcnow
from app.overview import services
from app.rendering import french
from app.rendering.contract_document import ParticularTerm
from app.rendering.labels import label, version_badge
from app.rendering.markdown import markdown_to_html
from app.signatures.models import ACTIVE
from app.signatures.progress import soonest_poll
from app.signatures.rules import reminders_text
from app.wiring import db_session, runtime

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

bp = Blueprint("overview", __name__)


@bp.route("/clients/<int:client_id>")
@require(Permission.VIEW_CLIENTS)
def client(client_id: int) -> str:
    overview = services.client_overview(db_session(), client_id, business_date(utcnow()))
    return _render("clients/show.html", overview)


@bp.route("/devis/<int:quote_id>")
@require(Permission.VIEW_CLIENTS)
def quote(quote_id: int) -> str:
    return _quote_page(quote_id, {}, None)


def _quote_page(quote_id: int, errors: dict[str, str], typed: MultiDict[str, str] | None) -> str:
    """The quote page; sent back with its generation form's problems, the form shows what
    was typed (the client's signer prefilled from the client record otherwise)."""
    page = services.quote_page(db_session(), quote_id)
    return _render(
        "quotes/show.html",
        page,
        today=business_date(utcnow()),
        zero=Decimal("0"),
        errors=errors,
        typed=typed,
    )


@bp.route("/contrats/generer/<int:quote_id>", methods=["POST"])
@require(Permission.GENERATE_CONTRACTS)
def generate_contract(quote_id: int) -> BaseResponse | tuple[str, int]:
    """The quote page's generation form: the clauses, the free text and the client's signer
    printed on the version (checked by the API's rules). Every field's problem at once, on
    the page again with what was typed; nothing stored until all are right."""
    form = http_request.form
    signer, errors = schemas.parse_web_signer(form)
    free_text = form.get("free_text", "")
    if problem := printing.free_text_problem(free_text):
        errors["free_text"] = problem
    try:
        clauses = contract_views.clause_ids(form.getlist("clause"))
    except ContractInvalid as exc:
        errors.update(exc.errors)
        clauses = []
    if not errors:
        choices = requested.Choices(
            author_id=signed_in_user().id,
            clause_version_ids=clauses,
            free_text=free_text,
            signer=signer,
        )
        try:
            return contract_views.first_version(quote_id, choices)
        except ContractInvalid as exc:  # what only the quote and the library can refuse
            errors = dict(exc.errors)
    return _quote_page(quote_id, errors, form), 422


@bp.route("/contrats/<int:contract_id>")
@require(Permission.VIEW_CONTRACTS)
def contract(contract_id: int) -> str:
    settings = runtime().settings
    page = services.contract_page(
        db_session(),
        contract_id,
        business_date(utcnow()),
        schedule=settings.reminder_days,
        at_most=settings.reminder_max,
    )
    versions = page.contract.versions
    return _render(
        "contracts/show.html",
        page,
        quotes=page.draft_quotes,
        printed={v.id: [_preview(t) for t in printing.printed_terms(v)] for v in versions},
        poll_after=soonest_poll(list(page.progress.values())),
        reminders_text=reminders_text,
        version_badge=version_badge,
    )


@bp.route("/contrats/<int:contract_id>/suivi.json")
@require(Permission.VIEW_CONTRACTS)
def contract_progress(contract_id: int) -> Response:
    """Where the contract's signature requests stand, polled by its page (a GET: reads only);
    `poll_after` is null once nothing can change by itself."""
    followed = services.contract_progress(db_session(), contract_id)
    contract = followed.contract
    requests = []
    for version in contract.versions:
        for r in followed.requests[version.id]:
            progress = followed.progress[r.id]
            sealed = r.evidence_document_id is not None
            requests.append(
                {
                    "id": r.id,
                    "stage": progress.stage.value,
                    "label": progress.label,
                    "detail": progress.detail,
                    "active": r.status in ACTIVE,
                    "evidence_pdf_url": _evidence_url(r.id, "pdf") if sealed else None,
                    "evidence_json_url": _evidence_url(r.id, "json") if sealed else None,
                    "signers": [
                        {
                            "id": s.id,
                            "status": label(s.status),
                            "signed_at": french.format_datetime(s.signed_at)
                            if s.signed_at
                            else None,
                        }
                        for s in r.signers
                    ],
                }
            )
    response = jsonify(
        poll_after=soonest_poll(list(followed.progress.values())),
        requests=requests,
        versions=[
            {
                "number": v.version,
                "status": version_badge(v.status),
                "signed_pdf_url": url_for(
                    "signature_sending.signed_pdf", contract_id=contract.id, number=v.version
                )
                if v.status is VersionStatus.SIGNED
                else None,
            }
            for v in contract.versions
        ],
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _render(template: str, page: DataclassInstance, **extra: object) -> str:
    """A page's template gets the page's fields under their own names (the services shape
    each page for its template), plus what only the view knows (today, previews)."""
    context = {field.name: getattr(page, field.name) for field in fields(page)}
    return render_template(template, **context, **extra)


def _evidence_url(request_id: int, fmt: str) -> str:
    return url_for("signature_requests.evidence", request_id=request_id, fmt=fmt)


def _preview(term: ParticularTerm) -> dict[str, object]:
    """A particular term as the PDF prints it: a library clause's Markdown as inert HTML (the
    contract's renderer), typed text as typed (shown by the template in a pre-wrap block)."""
    html = markdown_to_html(term.body, heading_offset=3) if term.markdown else None
    return {"title": term.title, "body": term.body, "html": html}
