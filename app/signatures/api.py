"""Signatures in the API (/api/v1): the signature report of an archived PDF (scope read);
sending a contract version for signature, a request's state, a reminder now, its cancellation
(scope write), through the workflow the web pages use (`app.signatures.workflow`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from sqlalchemy.orm import Session

from app.auth.api_actor import token_actor
from app.auth.guards import require_scope
from app.auth.models import Scope
from app.contracts.queries import get_contract
from app.db import utcnow
from app.documents.errors import DocumentIntegrityFailed
from app.http_errors import prefers_english
from app.idempotency.guard import idempotent
from app.json_input import raise_problems
from app.messages import msg
from app.pki import trust_roots
from app.signatures import lifecycle, revisions, schemas, workflow
from app.signatures.errors import CertificationUnavailable
from app.signatures.models import SignatureRequest
from app.signatures.verdict import verdict
from app.signatures.verification import verify_document
from app.wiring import hand_over, read_only_db_session, runtime, unit_of_work
from signing import SigningError

bp = Blueprint("signatures_api", __name__, url_prefix="/api/v1")


@bp.get("/documents/<int:document_id>/verification")
@require_scope(Scope.READ)
def verification(document_id: int) -> dict[str, Any]:
    rt = runtime()
    # The read is journaled; so is a failed integrity check, before the refusal is answered.
    with unit_of_work(commit_on=(DocumentIntegrityFailed,)) as db:
        result = verify_document(
            db,
            rt.store,
            document_id,
            trust_roots=trust_roots(rt.settings),
            now=utcnow(),
            actor=token_actor(),
        )
    # the verdict first, in French unless the client ranks English above French
    said = verdict(result.report, "en" if prefers_english() else "fr")
    return {
        "verdict": said.summary,
        "verdict_ok": said.ok,
        "details": list(said.details),
        "document_id": document_id,
        "sha256": result.sha256,
        **schemas.report_json(result.report),
    }


def _request(request_id: int) -> dict[str, Any]:
    session = read_only_db_session()
    return _request_json(session, revisions.get_request(session, request_id))


def _request_json(session: Session, signature_request: SignatureRequest) -> dict[str, Any]:
    settings = runtime().settings
    plans = {
        s.id: lifecycle.reminder_plan(
            session, s, schedule=settings.reminder_days, at_most=settings.reminder_max
        )
        for s in signature_request.signers
    }
    return schemas.request_json(signature_request, plans)


@bp.get("/contracts/<int:contract_id>")
@require_scope(Scope.READ)
def get_contract_state(contract_id: int) -> dict[str, Any]:
    """The contract, its versions and its signature requests: what a CRM reads to know where
    a deal stands without replaying the webhooks."""
    session = read_only_db_session()
    contract = get_contract(session, contract_id)
    return schemas.contract_json(contract, revisions.requests_for_contract(session, contract_id))


@bp.get("/contracts/<int:contract_id>/signature-requests")
@require_scope(Scope.READ)
def list_requests(contract_id: int) -> dict[str, Any]:
    """Every request of the contract, whole (signers, reminders, links), the latest first."""
    session = read_only_db_session()
    get_contract(session, contract_id)  # 404 for an unknown contract, not an empty list
    return {
        "items": [
            _request_json(session, signature_request)
            for signature_request in revisions.requests_for_contract(session, contract_id)
        ]
    }


@bp.post("/contracts/<int:contract_id>/signature-requests")
@require_scope(Scope.WRITE)
@idempotent
def send(contract_id: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The version is certified, the request created and the first signers mailed (their
    links go to them only). A second send of a version that has its request: 409."""
    sent_body = request.get_json(silent=True) if request.get_data() else {}
    body, errors = schemas.parse_send(sent_body)
    raise_problems(errors)
    number = body.version or get_contract(read_only_db_session(), contract_id).latest.version
    try:
        sent = workflow.send_version(
            hand_over(),
            contract_id,
            number,
            user_id=None,
            parallel=body.parallel,
            actor=token_actor(),
            link_days=body.expires_in_days,
            reminder_every_days=body.reminder_every_days,
        )
    except SigningError as exc:
        raise CertificationUnavailable(
            msg(
                "Le contrat n'a pas pu être certifié (service d'horodatage indisponible) : "
                "rien n'a été envoyé, réessayez dans quelques minutes."
            )
        ) from exc
    location = f"/api/v1/signature-requests/{sent.request_id}"
    return _request(sent.request_id), 201, {"Location": location}


@bp.get("/signature-requests/<int:request_id>")
@require_scope(Scope.READ)
def get_request(request_id: int) -> dict[str, Any]:
    return _request(request_id)


@bp.post("/signature-requests/<int:request_id>/cancel")
@require_scope(Scope.WRITE)
@idempotent
def cancel(request_id: int) -> dict[str, Any]:
    reason, errors = schemas.parse_cancel(request.get_json(silent=True))
    raise_problems(errors)
    actor = token_actor()
    workflow.cancel(hand_over(), request_id, reason, user_id=None, actor=actor)
    return _request(request_id)


@bp.post("/signature-requests/<int:request_id>/reminders")
@require_scope(Scope.WRITE)
@idempotent
def remind(request_id: int) -> dict[str, Any]:
    """A reminder now to the signers awaited (no body, or `{}`): the request (200; no
    resource is created, as for a cancellation), whose signers' `reminders_sent` counted it;
    409 when the request or its signers cannot be reminded now (`lifecycle.remind_now`)."""
    sent_body = request.get_json(silent=True) if request.get_data() else {}
    raise_problems(schemas.parse_remind(sent_body))
    workflow.remind_now(hand_over(), request_id, actor=token_actor())
    return _request(request_id)
