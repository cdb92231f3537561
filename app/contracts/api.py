"""Contracts through the write API (/api/v1): version 1 of a quote's contract, or version n+1
of a contract, is asked for (scope write) and rendered by the job the web pages use
(`contracts.generate_requested`), and the generation is followed at
`/contract-generations/{id}` (scope read)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, request

from app.auth.guards import current_token, require_scope
from app.auth.models import Scope
from app.clauses.errors import ClauseNotFound
from app.contracts import queries, requested, schemas, tasks
from app.contracts.errors import ContractInvalid
from app.contracts.models import ContractVersion
from app.db import utcnow
from app.idempotency.guard import idempotent
from app.json_input import raise_problems
from app.quotes.errors import QuoteNotFound
from app.quotes.services import get_quote
from app.wiring import read_only_db_session, runtime, unit_of_work

bp = Blueprint("contracts_api", __name__, url_prefix="/api/v1")

_PATHS = {"clause": "clause_versions", "quote": "quote_id"}
"""The form's field names that differ from the body's members."""


@bp.post("/quotes/<int:quote_id>/contract")
@require_scope(Scope.WRITE)
@idempotent
def generate(quote_id: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Checked at once (a refusal is a 4xx now), rendered by a job: 202 with the generation
    to follow (`Location`). Asked again while it is pending: that same generation."""
    # No body at all: no clause, no free text (as the form sent empty).
    sent = request.get_json(silent=True) if request.get_data() else {}
    body, errors = schemas.parse_generation(sent)
    raise_problems(errors)
    choices = _asked_by_token(body, countersigner=body.countersigner)
    with unit_of_work() as db, _refused_members():
        asked = requested.ask_first_version(
            db, get_quote(db, quote_id), choices, vendor=runtime().settings.vendor, now=utcnow()
        )
        generation_id = asked.id
    return _hand_to_job(generation_id)


@bp.post("/contracts/<int:contract_id>/versions")
@require_scope(Scope.WRITE)
@idempotent
def new_version(contract_id: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The web's "nouvelle version": checked at once (a version in signature, a reason
    missing: a 4xx now), rendered by the same job. Asked again while it is pending: that same
    generation; `based_on` older than the latest version: 409 (made since, by someone else)."""
    body, errors = schemas.parse_new_version(request.get_json(silent=True))
    raise_problems(errors)
    choices = _asked_by_token(body)
    with unit_of_work() as db:
        contract = queries.get_contract(db, contract_id)
        try:
            quote = get_quote(db, body.quote_id) if body.quote_id is not None else None
        except QuoteNotFound as exc:  # a member of the body, not the resource of the path
            raise_problems({"quote_id": exc.detail})
            raise
        with _refused_members():
            asked = requested.ask_new_version(
                db,
                contract,
                choices,
                vendor=runtime().settings.vendor,
                reason=body.reason,
                based_on=body.based_on,
                quote=quote,
                now=utcnow(),
            )
        generation_id = asked.id
    return _hand_to_job(generation_id)


def _asked_by_token(
    body: schemas.GenerationBody | schemas.NewVersionBody,
    countersigner: tuple[str, str] | None = None,
) -> requested.Choices:
    """What the body asks for, asked by the request's API token (no user is its author)."""
    return requested.Choices(
        author_id=None,
        token_id=current_token().id,
        clause_version_ids=body.clause_versions,
        free_text=body.free_text,
        countersigner=countersigner,
        signer=body.signer,
    )


@contextmanager
def _refused_members() -> Iterator[None]:
    """A clause or a free text the use case refuses: a 422 naming the body's member (the free
    text, as the form's field says it)."""
    try:
        yield
    except ClauseNotFound as exc:
        raise_problems({"clause_versions": exc.detail})
        raise
    except ContractInvalid as exc:
        raise_problems({_PATHS.get(k, k): v for k, v in exc.errors.items()})
        raise


def _hand_to_job(generation_id: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    # Once committed, so the job finds it (inline, the tests: it renders here and now).
    tasks.generate_requested.enqueue(generation_id)
    location = f"/api/v1/contract-generations/{generation_id}"
    return _generation(generation_id), 202, {"Location": location}


@bp.get("/contract-generations/<int:generation_id>")
@require_scope(Scope.READ)
def generation(generation_id: int) -> dict[str, Any]:
    """Where the generation stands: the version once done, the reason in French once failed."""
    return _generation(generation_id)


def _generation(generation_id: int) -> dict[str, Any]:
    session = read_only_db_session()
    state = requested.state_of(session, generation_id, utcnow())
    row = requested.get_generation(session, generation_id)
    version = session.get(ContractVersion, row.version_id) if row.version_id else None
    return schemas.generation_json(row, state.message, version)
