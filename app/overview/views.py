"""The client page (its quotes, contracts and CGV status) and the quote page (its contract and
the clauses to generate one with). URLs under /clients and /devis, as before the move."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, render_template

from app.auth.guards import require
from app.auth.rules import Permission
from app.clock import business_date
from app.db import utcnow
from app.overview import services
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
