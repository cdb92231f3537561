"""The evidence file (dossier de preuve) of a sealed request: its data, its seal, its archive."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.auth.models import User
from app.documents.models import Document, DocumentKind
from app.documents.services import deposit
from app.messages import msg
from app.signatures import rules
from app.signatures.errors import (
    RequestNotFound,
)
from app.signatures.journal import journal_about_request
from app.signatures.models import (
    SignatureRequest,
)
from app.signatures.revisions import get_request, lock_request
from app.signatures.schemas import signer_identity
from app.signatures.seal import sign_spec
from app.terms.models import CgvAcceptance
from signing import SigningKey, TrustServices, platform_seal
from storage import BlobStore

AUTH_METHOD = "lien personnel à usage unique + code à 6 chiffres envoyé par e-mail"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def evidence_data(session: Session, request_id: int) -> dict[str, Any] | None:
    """Everything the evidence file states, as plain JSON data; None when the request is not
    sealed yet or already has its evidence."""
    request = session.get(SignatureRequest, request_id)
    if request is None or request.signed_document is None or request.evidence_document_id:
        return None
    version = request.contract_version
    cgv = version.cgv_version
    signer_ids = [str(s.id) for s in request.signers]
    events = session.scalars(
        select(AuditEvent)
        .where(
            or_(
                and_(
                    AuditEvent.subject_type == "signature_request",
                    AuditEvent.subject_id == str(request.id),
                ),
                and_(AuditEvent.subject_type == "signer", AuditEvent.subject_id.in_(signer_ids)),
            )
        )
        .order_by(AuditEvent.id)
    ).all()
    signed_events = {
        e.subject_id: json.loads(e.details) for e in events if e.action == "signature.signed"
    }
    requested = next((e for e in events if e.action == "signature.requested"), None)
    prepared = json.loads(requested.details).get("prepared_sha256") if requested else None
    # The CGV acceptances this request recorded (client signers only), by signer email.
    accepted = {
        a.person_email: a
        for a in session.scalars(
            select(CgvAcceptance).where(CgvAcceptance.signature_request_id == request.id)
        )
    }
    # The platform's users who acted (sent, cancelled), by name: the PDF tells who did what.
    actors = (e.actor.partition(":") for e in events)
    user_ids = {int(ident) for kind, _, ident in actors if kind == "user" and ident.isdigit()}
    users = (
        {str(u.id): u.full_name for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    return {
        "format": "paraphe-evidence/1",
        "users": users,
        "contract": {"number": version.contract.number, "version": version.version},
        "client": {
            "legal_name": version.contract.client.legal_name,
            "siren": version.contract.client.siren,
        },
        "request": {
            "id": request.id,
            "status": request.status.value,
            "created_at": _iso(request.created_at),
            "completed_at": _iso(request.completed_at),
            "sealed_at": _iso(request.sealed_at),
        },
        "documents": {
            "original_sha256": version.document.sha256,
            "prepared_sha256": prepared,
            "sealed_sha256": request.signed_document.sha256,
        },
        "cgv": {
            "label": cgv.label,
            "effective_date": cgv.effective_date.isoformat(),
            "sha256": cgv.sha256,
        },
        "signers": [
            {
                "id": s.id,
                **signer_identity(s),
                # the capacity the version printed for this signer (None: none)
                "title": rules.capacity_of(
                    s.party,
                    client_title=version.signer_title,
                    vendor_title=version.countersigner_title,
                ),
                "field": s.field_name,
                "status": s.status.value,
                "authentication": {
                    "method": AUTH_METHOD,
                    "link_notified_at": _iso(s.notified_at),
                    "link_opened_at": _iso(s.opened_at),
                    "code_verified_at": _iso(s.authenticated_at),
                },
                "signed_at": _iso(s.signed_at),
                "ip": s.ip,
                "user_agent": s.user_agent,
                "consent": s.consent_text,
                # What the signer consented to: the client's signers accept the CGV and give
                # their agreement; the vendor's countersigner gives its agreement only.
                "consents": s.consent_text.splitlines() if s.consent_text else [],
                "accepted_cgv": (
                    {
                        "label": accepted[s.email].cgv_version.label,
                        "sha256": accepted[s.email].text_sha256,
                        "accepted_at": _iso(accepted[s.email].accepted_at),
                    }
                    if s.email in accepted
                    else None
                ),
                "document_sha256_before": signed_events.get(str(s.id), {}).get(
                    "document_sha256_before"
                ),
                "document_sha256_after": signed_events.get(str(s.id), {}).get(
                    "document_sha256_after"
                ),
            }
            for s in request.signers
        ],
        "events": [
            {
                "at": _iso(e.at),
                "action": e.action,
                "actor": e.actor,
                "subject": f"{e.subject_type}:{e.subject_id}",
                "details": json.loads(e.details),
                "hash": e.hash,
            }
            for e in events
        ],
    }


def apply_evidence_seal(
    pdf: bytes,
    key: SigningKey,
    *,
    now: datetime,
    sealer: str,
    trust: TrustServices | None = None,
) -> bytes:
    """The platform seal on the evidence file, at the same level as the contract's seal.

    With ``trust`` (a TSA is configured): PAdES B-LTA through the same trust services as the
    contract (timestamped seal, its validation data in the DSS, document timestamp last), so
    the evidence can be validated offline as long as the contract can; TimestampError /
    ValidationDataError when the TSA or revocation data is unavailable, nothing is written
    and the sweeper retries. Without: B-B, like the contract."""
    return platform_seal(
        pdf,
        key,
        sign_spec(
            rules.EVIDENCE_FIELD,
            sealer,
            now=now,
            reason="Cachet de la plateforme sur le dossier de preuve",
            new_field=True,
        ),
        trust,
    )


def record_evidence(
    session: Session,
    store: BlobStore,
    request_id: int,
    *,
    json_bytes: bytes,
    pdf: bytes,
    now: datetime,
) -> Document | None:
    request = lock_request(session, request_id)
    if request.evidence_document_id is not None:
        return None
    version = request.contract_version
    contract = version.contract
    common: dict[str, Any] = {
        "kind": DocumentKind.EVIDENCE,
        "client_id": contract.client_id,
        "version": version.version,
        "now": now,
        "actor": "system",
    }
    as_json = deposit(
        session,
        store,
        reference=f"{contract.number}-preuve-json",
        data=json_bytes,
        media_type="application/json",
        filename=f"{contract.number}-v{version.version}-preuve.json",
        **common,
    )
    as_pdf = deposit(
        session,
        store,
        reference=f"{contract.number}-preuve",
        data=pdf,
        media_type="application/pdf",
        filename=f"{contract.number}-v{version.version}-preuve.pdf",
        **common,
    )
    request.evidence_json_id = as_json.id
    request.evidence_document_id = as_pdf.id
    request.evidence_document = as_pdf
    journal_about_request(
        session,
        request,
        "signature.evidence",
        now=now,
        actor="system",
        details={"pdf_sha256": as_pdf.sha256, "json_sha256": as_json.sha256},
    )
    return as_pdf


def missing_evidence(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(SignatureRequest.id).where(
                SignatureRequest.signed_document_id.is_not(None),
                SignatureRequest.evidence_document_id.is_(None),
            )
        )
    )


def evidence_file(session: Session, request_id: int, *, as_json: bool) -> Document:
    request = get_request(session, request_id)
    document_id = request.evidence_json_id if as_json else request.evidence_document_id
    document = session.get(Document, document_id) if document_id is not None else None
    if document is None:
        raise RequestNotFound(msg("Le dossier de preuve de cette demande n'est pas encore prêt."))
    return document
