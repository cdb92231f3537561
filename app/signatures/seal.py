"""The platform seal of a completed request: prepare, apply (no session), record under lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import PARIS
from app.contracts.models import VersionStatus
from app.documents.models import Document, DocumentKind
from app.documents.services import deposit
from app.events import recording as events
from app.events.recording import Resource
from app.runtime import SealStamp
from app.signatures import rules
from app.signatures.journal import journal_about_request
from app.signatures.links import Invitation
from app.signatures.models import (
    RequestStatus,
    SignatureRequest,
)
from app.signatures.revisions import advance, lock_request, read_revision
from app.tokens import new_link_token, token_hash
from signing import SigningKey, SignSpec, TrustServices, platform_seal
from storage import BlobStore


def sign_spec(
    field_name: str,
    signer_name: str,
    *,
    now: datetime,
    reason: str,
    location: str = "Paraphe",
    new_field: bool = False,
) -> SignSpec:
    """Every signature of the workflow (certification, signers, seals): the claimed time
    shown in Paris time; ``new_field`` for a seal whose invisible field it creates itself."""
    return SignSpec(
        field_name=field_name,
        signer_name=signer_name,
        signed_at=now.astimezone(PARIS),
        reason=reason,
        location=location,
        existing_fields_only=not new_field,
    )


@dataclass(frozen=True)
class PreparedSeal:
    request_id: int
    base_sha256: str
    pdf: bytes


def prepare_seal(
    session: Session, store: BlobStore, request_id: int, *, now: datetime
) -> PreparedSeal | None:
    """The document to seal, or None when there is nothing to do (not completed, or sealed).

    A damaged or missing revision raises `RevisionIntegrityFailed` (journaled, see
    `read_revision`)."""
    request = session.get(SignatureRequest, request_id)
    if request is None or request.status is not RequestStatus.COMPLETED:
        return None
    if request.signed_document_id is not None or request.current_sha256 is None:
        return None
    pdf = read_revision(session, store, request, actor="system", now=now)
    return PreparedSeal(request.id, request.current_sha256, pdf)


def apply_seal(
    prepared: PreparedSeal,
    key: SigningKey,
    *,
    now: datetime,
    sealer: str,
    trust: TrustServices | None = None,
    stamp: SealStamp = platform_seal,
) -> bytes:
    """The platform seal in the invisible seal field. Pure cryptography, no session.

    With ``trust``: PAdES B-LTA (validation data of every earlier signature, timestamped
    seal, document timestamp last); TimestampError / ValidationDataError when the TSA or the
    revocation data is unavailable, and nothing is written. Without: B-B. ``stamp`` is the
    process's seal collaborator (`Collaborators.seal_stamp`)."""
    return stamp(
        prepared.pdf,
        key,
        sign_spec(
            rules.SEAL_FIELD,
            sealer,
            now=now,
            reason="Cachet de la plateforme : toutes les signatures sont recueillies",
        ),
        trust,
    )


@dataclass(frozen=True)
class Completion:
    """A sealed request and the download links to mail (tokens exist only here and in mail)."""

    request: SignatureRequest
    document: Document
    downloads: list[Invitation]


def record_seal(
    session: Session,
    store: BlobStore,
    prepared: PreparedSeal,
    sealed_pdf: bytes,
    *,
    now: datetime,
    link_days: int,
) -> Completion | None:
    """Archive the sealed PDF (kind signed_contract) and close the request, all in the
    caller's transaction; None if another process sealed it first."""
    request = lock_request(session, prepared.request_id)
    if request.signed_document_id is not None or request.current_sha256 != prepared.base_sha256:
        return None
    version = request.contract_version
    contract = version.contract
    document = deposit(
        session,
        store,
        kind=DocumentKind.SIGNED_CONTRACT,
        client_id=contract.client_id,
        reference=contract.number,
        version=version.version,
        data=sealed_pdf,
        media_type="application/pdf",
        filename=f"{contract.number}-v{version.version}-signe.pdf",
        now=now,
        actor="system",
    )
    advance(session, request, prepared.base_sha256, document.sha256)
    request.signed_document_id = document.id
    request.signed_document = document
    request.sealed_at = now
    request.seal_error = None
    version.status = VersionStatus.SIGNED
    downloads: list[Invitation] = []
    for signer in request.signers:
        token = new_link_token()
        signer.download_token_hash = token_hash(token)
        downloads.append(Invitation(signer=signer, token=token))
    journal_about_request(
        session,
        request,
        "signature.sealed",
        now=now,
        actor="system",
        details={
            "contract": contract.number,
            "version": version.version,
            "document_sha256_before": prepared.base_sha256,
            "document_sha256_after": document.sha256,
        },
    )
    events.record(
        session,
        "signature_request.completed",
        Resource("signature_request", request.id),
        {
            "status": "completed",
            "sealed_at": now.isoformat(),
            "contract": {"number": contract.number, "version": version.version},
            "client_id": contract.client_id,
            "signed_document": {
                "id": document.id,
                "sha256": document.sha256,
                "links": {"api": f"/api/v1/documents/{document.id}"},
            },
        },
        now=now,
    )
    return Completion(request=request, document=document, downloads=downloads)


def record_seal_failure(session: Session, request_id: int, error: str) -> None:
    request = lock_request(session, request_id)
    request.seal_attempts += 1
    request.seal_error = error[:2000]


def stuck_requests(session: Session) -> list[SignatureRequest]:
    """Completed requests whose seal has not been archived (a crash, a TSA down...)."""
    return list(
        session.scalars(
            select(SignatureRequest)
            .where(
                SignatureRequest.status == RequestStatus.COMPLETED,
                SignatureRequest.signed_document_id.is_(None),
            )
            .order_by(SignatureRequest.id)
        ).unique()
    )
