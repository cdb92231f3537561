"""The client page (its quotes, contracts and CGV status), the quote page (its contract and the
clauses to generate one with) and the contract page (its versions, their signature requests,
the CGV behind). URLs under /clients, /devis and /contrats, as before the move."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, render_template

from app.auth.guards import require
from app.auth.rules import Permission
from app.clock import business_date
from app.contracts import printing
from app.db import utcnow
from app.overview import services
from app.rendering.contract_document import ParticularTerm
from app.rendering.markdown import markdown_to_html
from app.wiring import db_session

bp = Blueprint("overview", __name__)


@bp.route("/clients/<int:client_id>")
@require(Permission.VIEW_CLIENTS)
def client(client_id: int) -> str:
    overview = services.client_overview(db_session(), client_id, business_date(utcnow()))
    return render_template(
        "clients/show.html",
        client=overview.client,
        country_name=overview.country_name,
        quotes=overview.quotes,
        contracts=overview.contracts,
        acceptances=overview.acceptances,
        opposable=overview.opposable,
    )


@bp.route("/devis/<int:quote_id>")
@require(Permission.VIEW_CLIENTS)
def quote(quote_id: int) -> str:
    page = services.quote_page(db_session(), quote_id)
    return render_template(
        "quotes/show.html",
        quote=page.quote,
        totals=page.totals,
        rows=page.rows,
        terms_sentences=page.terms_sentences,
        contract=page.contract,
        clauses=page.clauses,
        today=business_date(utcnow()),
        zero=Decimal("0"),
    )


@bp.route("/contrats/<int:contract_id>")
@require(Permission.VIEW_CONTRACTS)
def contract(contract_id: int) -> str:
    page = services.contract_page(db_session(), contract_id, business_date(utcnow()))
    versions = page.contract.versions
    return render_template(
        "contracts/show.html",
        contract=page.contract,
        requests=page.requests,
        cgv_behind=page.cgv_behind,
        clauses=page.clauses,
        quotes=page.draft_quotes,
        printed={v.id: [_preview(t) for t in printing.printed_terms(v)] for v in versions},
    )


def _preview(term: ParticularTerm) -> dict[str, object]:
    """A particular term as the PDF prints it: a library clause's Markdown as inert HTML (the
    contract's renderer), typed text as typed (shown by the template in a pre-wrap block)."""
    html = markdown_to_html(term.body, heading_offset=3) if term.markdown else None
    return {"title": term.title, "body": term.body, "html": html}
