"""The journal entries of a signer's own steps (its consent, then its signature): made by the
signer, filed under the client, naming the contract version and the request."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.audit import services as audit
from app.signatures.models import SignatureRequest, Signer


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
    contract = version.contract
    audit.record(
        session,
        now=now,
        actor=f"signer:{signer.id}",
        action=action,
        subject_type="signer",
        subject_id=signer.id,
        client_id=contract.client_id,
        details={
            "contract": contract.number,
            "version": version.version,
            "request": request.id,
            **details,
        },
    )
