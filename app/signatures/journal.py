"""The journal entries of the signature workflow. Each is filed under the client of the
contract being signed, and names either one signer or the whole request: these functions
derive both from the row, so an entry can never name one request and file it under another
client."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.audit import services as audit
from app.signatures.models import SignatureRequest, Signer


def journal_about_request(
    session: Session,
    request: SignatureRequest,
    action: str,
    *,
    now: datetime,
    actor: str,
    details: dict[str, Any],
) -> None:
    """An entry about the whole request (sent, resent, closed, sealed ...)."""
    audit.record(
        session,
        now=now,
        actor=actor,
        action=action,
        subject_type="signature_request",
        subject_id=request.id,
        client_id=request.contract_version.contract.client_id,
        details=details,
    )


def journal_about_signer(
    session: Session,
    signer: Signer,
    action: str,
    *,
    now: datetime,
    details: dict[str, Any],
    actor: str | None = None,
) -> None:
    """An entry about one signer; made by the signer itself unless `actor` says otherwise
    (the system notifying it, a user reminding it)."""
    audit.record(
        session,
        now=now,
        actor=actor if actor is not None else f"signer:{signer.id}",
        action=action,
        subject_type="signer",
        subject_id=signer.id,
        client_id=signer.request.contract_version.contract.client_id,
        details=details,
    )


def journal_signer(
    session: Session,
    signer: Signer,
    request: SignatureRequest,
    action: str,
    *,
    now: datetime,
    details: dict[str, object],
) -> None:
    """The journal entry of a signer's step (its consent, then its signature), made by the
    signer and naming the contract version and the request; `details` add what the step proved."""
    version = request.contract_version
    journal_about_signer(
        session,
        signer,
        action,
        now=now,
        details={
            "contract": version.contract.number,
            "version": version.version,
            "request": request.id,
            **details,
        },
    )
