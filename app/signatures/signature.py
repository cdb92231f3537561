"""One signer's signature, applied by the job `signatures.sign` after the signing page's POST
recorded the consent (`app.signatures.consent`).

At send, the contract got one revision holding EVERY signature field (one visible field per
signer, on the box the contract's signature page draws for it, plus the invisible seal
field); each signer fills only its own field, and the platform seal fills the last one.

Signing is split in three so that no database transaction stays open while the PDF is signed
(a signature may call a TSA over the network): `prepare_signature` reads, `apply_signature`
does the cryptography without a session, `record_signature` re-checks under row locks and
writes. The request's latest revision (`current_sha256`) only moves forward by
compare-and-swap: when two signers of a parallel group sign at the same moment, the second
one finds the revision moved (`StaleRevision`), re-reads the latest PDF and signs again, so
both signatures land one after the other and none is lost. The signer's status (« signature
en cours » until recorded) makes a job run twice, or by two workers, sign once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.events import recording as events
from app.events.recording import Resource
from app.messages import msg
from app.signatures import rules
from app.signatures.errors import StaleRevision
from app.signatures.journal import journal_signer
from app.signatures.links import Invitation, current_group, notify_next_group
from app.signatures.models import ACTIVE, RequestStatus, Signer, SignerStatus
from app.signatures.revisions import advance, lock_request, read_revision
from app.signatures.seal import sign_spec
from signing import SigningKey, TrustServices, sign_pdf
from storage import BlobStore


@dataclass(frozen=True)
class PreparedSignature:
    signer_id: int
    request_id: int
    field_name: str
    signer_name: str
    base_sha256: str
    pdf: bytes
    reason: str
    signed_at: datetime
    """The consent's time (`Signer.consented_at`): the time in the signature."""


def prepare_signature(
    session: Session, store: BlobStore, signer_id: int, *, now: datetime
) -> PreparedSignature | None:
    """What the job needs to sign for a signer whose consent is recorded (`consent`); None
    when there is nothing to do (already signed by an earlier run, or the request closed)."""
    signer = session.get(Signer, signer_id)
    if signer is None or signer.status is not SignerStatus.SIGNING:
        return None
    request = signer.request
    if request.status not in ACTIVE:
        return None
    assert request.current_sha256 is not None and signer.consented_at is not None
    cgv = request.contract_version.cgv_version
    accepts_cgv = rules.consents_to_cgv(signer.party)
    return PreparedSignature(
        signer_id=signer.id,
        request_id=request.id,
        field_name=signer.field_name,
        signer_name=signer.name,
        base_sha256=request.current_sha256,
        pdf=read_revision(session, store, request, actor=f"signer:{signer.id}", now=now),
        reason=f"Bon pour accord — CGV version {cgv.label}" if accepts_cgv else "Bon pour accord",
        signed_at=signer.consented_at,
    )


def apply_signature(
    prepared: PreparedSignature, key: SigningKey, *, trust: TrustServices | None = None
) -> bytes:
    """Pure cryptography: no session, safe to run while no transaction is open. Fills the
    signer's own pre-created field with the consent's time; nothing is drawn on the page.
    With ``trust`` the signature is timestamped by its authority (B-T; TimestampError when it
    fails)."""
    return sign_pdf(
        prepared.pdf,
        key,
        sign_spec(
            prepared.field_name,
            prepared.signer_name,
            now=prepared.signed_at,
            reason=prepared.reason,
            location="Signature électronique Paraphe",
        ),
        services=trust,
    )


@dataclass(frozen=True)
class SignOutcome:
    signer: Signer
    invitations: list[Invitation]
    completed: bool


def record_signature(
    session: Session,
    store: BlobStore,
    prepared: PreparedSignature,
    signed_pdf: bytes,
    *,
    now: datetime,
    link_days: int,
) -> SignOutcome | None:
    """Record the applied signature; None when an earlier run (or another worker) already
    did, or the request closed meanwhile: nothing written. StaleRevision when another
    signature moved the revision: the caller prepares again."""
    # Lock order everywhere: the request row, then the signer row.
    request = lock_request(session, prepared.request_id)
    signer = session.scalar(
        select(Signer).where(Signer.id == prepared.signer_id).with_for_update(of=Signer)
    )
    assert signer is not None
    if signer.status is not SignerStatus.SIGNING or request.status not in ACTIVE:
        return None
    if request.current_sha256 != prepared.base_sha256:
        raise StaleRevision(msg("Le document a reçu une autre signature entre-temps."))
    ref = store.put(signed_pdf)  # blob first: a crash now leaves an orphan blob, nothing else
    advance(session, request, prepared.base_sha256, ref.sha256)
    version = request.contract_version
    contract = version.contract
    signer.status = SignerStatus.SIGNED
    signer.signed_at = prepared.signed_at
    signer.sign_error = None
    journal_signer(
        session,
        signer,
        request,
        "signature.signed",
        now=now,
        details={
            "field": signer.field_name,
            "document_sha256_before": prepared.base_sha256,
            "document_sha256_after": ref.sha256,
            "consent": signer.consent_text,
            "consented_at": prepared.signed_at.isoformat(),
            "ip": signer.ip,
        },
    )
    events.record(
        session,
        "signer.signed",
        Resource("signer", signer.id),
        {
            "signature_request_id": request.id,
            "contract": {"number": contract.number, "version": version.version},
            "client_id": contract.client_id,
            "signed_at": prepared.signed_at.isoformat(),
        },
        now=now,
    )
    completed = current_group(request) is None
    invitations: list[Invitation] = []
    if completed:
        request.status = RequestStatus.COMPLETED
        request.completed_at = now
    else:
        request.status = RequestStatus.PARTIALLY_SIGNED
        invitations = notify_next_group(session, request, now=now, link_days=link_days)
    return SignOutcome(signer=signer, invitations=invitations, completed=completed)


def record_sign_failure(session: Session, signer_id: int, error: str) -> None:
    """A failed attempt of the signature job (key or TSA down): counted on the signer, whose
    page then says the signature is late and retried."""
    signer = session.get(Signer, signer_id, with_for_update=True)
    if signer is not None and signer.status is SignerStatus.SIGNING:
        signer.sign_attempts += 1
        signer.sign_error = error[:2000]
