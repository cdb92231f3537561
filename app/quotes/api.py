"""Quotes in the API (/api/v1): the same figures as the web page and the contract."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from app.auth.guards import require_scope
from app.auth.models import Scope
from app.quotes import schemas, services
from app.wiring import db_session

bp = Blueprint("quotes_api", __name__, url_prefix="/api/v1")


@bp.get("/quotes/<int:quote_id>")
@require_scope(Scope.READ)
def get_quote(quote_id: int) -> dict[str, Any]:
    quote = services.get_quote(db_session(), quote_id)
    return schemas.quote_json(quote, services.totals_of(quote), services.terms_of(quote))
