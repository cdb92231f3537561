"""Clients in the API (/api/v1): read, or found by SIREN or VAT number (scope read); created
and corrected (scope write) with the same checks as the web form (`services.validate`), every
problem in one 422."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from app.auth.api_actor import token_actor
from app.auth.guards import require_scope
from app.auth.models import Scope
from app.clients import schemas, services
from app.clients.errors import ClientInvalid
from app.db import utcnow
from app.idempotency.guard import idempotent
from app.json_input import raise_problems
from app.wiring import read_only_db_session, unit_of_work

bp = Blueprint("clients_api", __name__, url_prefix="/api/v1")


def _checked(data: services.ClientInput, errors: dict[str, str]) -> None:
    """The body's problems and the form's rules, in one answer."""
    try:
        services.validate(data)
    except ClientInvalid as exc:
        raise_problems(errors, exc.errors)
    raise_problems(errors)


@bp.post("/clients")
@require_scope(Scope.WRITE)
@idempotent
def create_client() -> tuple[dict[str, Any], int, dict[str, str]]:
    data, confirm, errors = schemas.parse_client(request.get_json(silent=True))
    _checked(data, errors)
    with unit_of_work() as db:
        client = services.create_client(
            db, data, actor=token_actor(), now=utcnow(), confirm_duplicate=confirm
        )
    return schemas.client_json(client), 201, {"Location": f"/api/v1/clients/{client.id}"}


@bp.get("/clients")
@require_scope(Scope.READ)
def find_clients() -> list[dict[str, Any]]:
    """A CRM that does not know Paraphe's id finds the client by SIREN or VAT number."""
    siren, vat_number = schemas.parse_lookup(request.args.to_dict())
    found = services.clients_with(read_only_db_session(), siren=siren, vat_number=vat_number)
    return [schemas.client_json(client) for client in found]


@bp.get("/clients/<int:client_id>")
@require_scope(Scope.READ)
def get_client(client_id: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    client = services.get_client(read_only_db_session(), client_id)
    return schemas.client_json(client), 200, schemas.etag_of(client)


@bp.patch("/clients/<int:client_id>")
@require_scope(Scope.WRITE)
def update_client(client_id: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    """With `If-Match` naming an older revision than the client's: 412, nothing written.
    Without it the update applies to the current record, as before (CRMs in the field do not
    send it)."""
    revisions = schemas.revisions_accepted(request.if_match)
    with unit_of_work() as db:
        # locked: a concurrent PATCH waits, then starts from (and checks) this one's result
        client = services.get_client(db, client_id, for_update=True)
        # a precondition comes before the body (RFC 9110 13.2.2): a stale copy is told so
        # first, not what is wrong with the correction it would not be allowed to make
        services.check_revision(client, revisions)
        start = services.input_of(client)
        data, confirm, errors = schemas.parse_client(request.get_json(silent=True), start=start)
        _checked(data, errors)
        services.update_client(
            db,
            client,
            data,
            actor=token_actor(),
            now=utcnow(),
            confirm_duplicate=confirm,
            revisions=revisions,
        )
    return schemas.client_json(client), 200, schemas.etag_of(client)
