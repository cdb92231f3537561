"""Quotes in the API (/api/v1): the same figures as the web page and the contract; created
(scope write) from catalogue items by code and free lines, through the form's service."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from app.auth.api_actor import token_actor
from app.auth.guards import require_scope
from app.auth.models import Scope
from app.clients.services import get_client
from app.clock import business_date
from app.db import utcnow
from app.idempotency.guard import idempotent
from app.json_input import raise_problems
from app.quotes import schemas, services
from app.quotes.errors import QuoteInvalid
from app.wiring import db_session, unit_of_work

bp = Blueprint("quotes_api", __name__, url_prefix="/api/v1")


@bp.get("/quotes/<int:quote_id>")
@require_scope(Scope.READ)
def get_quote(quote_id: int) -> dict[str, Any]:
    quote = services.get_quote(db_session(), quote_id)
    return schemas.quote_json(quote, services.totals_of(quote), services.terms_of(quote))


@bp.post("/quotes")
@require_scope(Scope.WRITE)
@idempotent
def create_quote() -> tuple[dict[str, Any], int, dict[str, str]]:
    body, errors = schemas.parse_quote(request.get_json(silent=True))
    now = utcnow()
    with unit_of_work() as db:
        catalogue = {p.code: p for p in services.list_products(db, active_only=True)}
        lines = schemas.resolve_lines(body.lines, catalogue, errors)
        raise_problems(errors)
        client = get_client(db, body.client_id)
        try:
            quote = services.create_quote(
                db,
                client=client,
                lines=lines,
                particular_terms=body.particular_terms,
                today=business_date(now),
                now=now,
                actor=token_actor(),
                valid_until=body.valid_until,
                global_discount=body.global_discount,
                terms=body.terms,
            )
        except QuoteInvalid as exc:
            raise_problems({schemas.body_path(k): v for k, v in exc.errors.items()})
            raise
    payload = schemas.quote_json(quote, services.totals_of(quote), services.terms_of(quote))
    return payload, 201, {"Location": f"/api/v1/quotes/{quote.id}"}
