"""One signer's signature, in three steps.

At send, the contract got one revision holding EVERY signature field (one visible field per
signer, on the box the contract's signature page draws for it, plus the invisible seal
field); each signer fills only its own field, and the platform seal fills the last one.

Signing is split in three so that no database transaction stays open while the PDF is signed
(a signature may call a TSA over the network): `prepare_signature` reads and checks,
`apply_signature` does the cryptography without a session, `record_signature` re-checks under
row locks and writes. The request's latest revision (`current_sha256`) only moves forward by
compare-and-swap: when two signers of a parallel group sign at the same moment, the second
one finds the revision moved (`StaleRevision`), re-reads the latest PDF and signs again, so
both signatures land one after the other and none is lost. Two submissions of one link yield
exactly one signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.audit import services as audit
from app.events import recording as events
from app.events.recording import Resource
from app.signatures import rules
from app.signatures.codes import LOCKED_MESSAGE
from app.signatures.errors import (
    ConsentMissing,
    NotAuthenticated,
    NotYourTurn,
    SignerLocked,
    SigningLinkGone,
    StaleRevision,
)
from app.signatures.links import Invitation, current_group, find_signer, notify_next_group
from app.signatures.models import (
    ACTIVE,
    WAITING,
    RequestStatus,
    Signer,
    SignerStatus,
)
from app.signatures.revisions import advance, lock_request, read_revision
from app.signatures.seal import sign_spec
from app.terms import acceptances as terms
from app.terms.models import AcceptanceMethod
from signing import (
    SigningKey,
    TrustServices,
    sign_pdf,
)
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
    consent_text: str


def prepare_signature(
    session: Session,
    store: BlobStore,
    token: str,
    *,
    now: datetime,
    accepted_cgv: bool,
    agreed: bool,
    authenticated: bool,
) -> PreparedSignature:
    """`authenticated`: this browser entered a valid one-time code for this signer."""
    signer = find_signer(session, token, now)
    request = signer.request
    if request.status not in ACTIVE or signer.status not in WAITING:
        raise NotYourTurn("Ce n'est pas encore à vous de signer ce document.")
    if signer.otp_locked_at is not None:
        raise SignerLocked(LOCKED_MESSAGE)
    if not authenticated or signer.authenticated_at is None:
        raise NotAuthenticated("Saisissez d'abord le code reçu par e-mail.")
    version = request.contract_version
    cgv = version.cgv_version
    # Only the client's signers accept the CGV (the vendor's own terms): a countersigner's
    # stray ``accepted_cgv`` is ignored, never recorded.
    accepts_cgv = rules.consents_to_cgv(signer.party)
    missing: list[str] = []
    if accepts_cgv and not accepted_cgv:
        missing.append("l'acceptation des conditions générales de vente")
    if not agreed:
        missing.append("la mention « Bon pour accord »")
    if missing:
        raise ConsentMissing("Pour signer, cochez " + " et ".join(missing) + ".")
    assert request.current_sha256 is not None
    consent = "\n".join(
        rules.consent_texts(
            signer.party,
            cgv_label=cgv.label,
            cgv_effective=cgv.effective_date,
            contract_number=version.contract.number,
            version=version.version,
        )
    )
    return PreparedSignature(
        signer_id=signer.id,
        request_id=request.id,
        field_name=signer.field_name,
        signer_name=signer.name,
        base_sha256=request.current_sha256,
        pdf=read_revision(session, store, request, actor=f"signer:{signer.id}", now=now),
        reason=f"Bon pour accord — CGV version {cgv.label}" if accepts_cgv else "Bon pour accord",
        consent_text=consent,
    )


def apply_signature(
    prepared: PreparedSignature,
    key: SigningKey,
    *,
    now: datetime,
    trust: TrustServices | None = None,
) -> bytes:
    """Pure cryptography: no session, safe to run while no transaction is open. Fills the
    signer's own pre-created field; nothing is drawn on the page. With ``trust`` the
    signature is timestamped by its authority (B-T; TimestampError when it fails)."""
    return sign_pdf(
        prepared.pdf,
        key,
        sign_spec(
            prepared.field_name,
            prepared.signer_name,
            now=now,
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
    token: str,
    prepared: PreparedSignature,
    signed_pdf: bytes,
    *,
    now: datetime,
    ip: str | None,
    user_agent: str | None,
    link_days: int,
) -> SignOutcome:
    # Lock order everywhere: the request row, then the signer row.
    request = lock_request(session, prepared.request_id)
    signer = find_signer(session, token, now, for_update=True, allow_signed=True)
    if signer.status is SignerStatus.SIGNED or signer.id != prepared.signer_id:
        raise SigningLinkGone("Ce document a déjà été signé avec ce lien.")
    if request.status not in ACTIVE:
        raise SigningLinkGone("Cette demande de signature n'est plus active.")
    if request.current_sha256 != prepared.base_sha256:
        raise StaleRevision("Le document a reçu une autre signature entre-temps.")
    ref = store.put(signed_pdf)  # blob first: a crash now leaves an orphan blob, nothing else
    advance(session, request, prepared.base_sha256, ref.sha256)
    version = request.contract_version
    contract = version.contract
    signer.status = SignerStatus.SIGNED
    signer.signed_at = now
    signer.ip = ip
    signer.user_agent = (user_agent or "")[:500] or None
    signer.consent_text = prepared.consent_text
    if rules.consents_to_cgv(signer.party):
        cgv = version.cgv_version
        terms.record_acceptance(
            session,
            client_id=contract.client_id,
            version=cgv,
            shown_sha256=cgv.sha256,
            person_name=signer.name,
            person_email=signer.email,
            method=AcceptanceMethod.CONTRACT_SIGNATURE,
            now=now,
            ip=ip,
            user_agent=user_agent,
            contract_version_id=version.id,
            signature_request_id=request.id,
            actor=f"signer:{signer.id}",
        )
    audit.record(
        session,
        now=now,
        actor=f"signer:{signer.id}",
        action="signature.signed",
        subject_type="signer",
        subject_id=signer.id,
        client_id=contract.client_id,
        details={
            "contract": contract.number,
            "version": version.version,
            "request": request.id,
            "field": signer.field_name,
            "document_sha256_before": prepared.base_sha256,
            "document_sha256_after": ref.sha256,
            "consent": prepared.consent_text,
            "ip": ip,
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
            "signed_at": now.isoformat(),
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
