"""The signer's consent, recorded by the signing page's POST in one short transaction.

Everything the signer can get wrong is checked here (link, code, turn, consents), so the
answer says it at once; the consent (time, IP, user agent, the texts agreed to and the CGV
acceptance: the proof) is written and the signer marked « signature en cours ». The PAdES
signature itself is the job `signatures.sign`, applied with this consent's time
(`app.signatures.signature`). A second POST of the same link (a double click, 20 at once)
finds the consent under the signer's row lock and records nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.messages import msg
from app.signatures import rules
from app.signatures.codes import LOCKED_MESSAGE
from app.signatures.errors import ConsentMissing, NotAuthenticated, NotYourTurn, SignerLocked
from app.signatures.journal import journal_signer
from app.signatures.links import find_signer
from app.signatures.models import ACTIVE, WAITING, Signer, SignerStatus
from app.signatures.revisions import lock_request
from app.terms import acceptances as terms
from app.terms.models import AcceptanceMethod

LOST_AFTER = timedelta(minutes=2)
"""A consent older than this and still not applied lost its job (a worker killed, a broker
flushed): the periodic sweep enqueues it again (a job normally applies it in about a second)."""


@dataclass(frozen=True)
class Consent:
    signer_id: int
    request_id: int
    recorded: bool
    """False when this link's consent was already recorded (a second POST): nothing written."""


def record_consent(
    session: Session,
    token: str,
    *,
    now: datetime,
    accepted_cgv: bool,
    agreed: bool,
    authenticated: bool,
    ip: str | None,
    user_agent: str | None,
) -> Consent:
    """`authenticated`: this browser entered a valid one-time code for this signer. Raises
    NotYourTurn, SignerLocked, NotAuthenticated, ConsentMissing, SigningLinkGone."""
    # Lock order everywhere: the request row, then the signer row.
    request = lock_request(session, find_signer(session, token, now).request_id)
    signer = find_signer(session, token, now, for_update=True)
    if signer.status is SignerStatus.SIGNING:
        return Consent(signer.id, request.id, recorded=False)
    if request.status not in ACTIVE or signer.status not in WAITING:
        raise NotYourTurn(msg("Ce n'est pas encore à vous de signer ce document."))
    if signer.otp_locked_at is not None:
        raise SignerLocked(LOCKED_MESSAGE)
    if not authenticated or signer.authenticated_at is None:
        raise NotAuthenticated(msg("Saisissez d'abord le code reçu par e-mail."))
    version = request.contract_version
    cgv = version.cgv_version
    # Only the client's signers accept the CGV (the vendor's own terms): a countersigner's
    # stray ``accepted_cgv`` is ignored, never recorded.
    accepts_cgv = rules.consents_to_cgv(signer.party)
    cgv_missing = accepts_cgv and not accepted_cgv
    if cgv_missing and not agreed:
        raise ConsentMissing(
            msg(
                "Pour signer, cochez l'acceptation des conditions générales de vente et la "
                "mention « Bon pour accord »."
            )
        )
    if cgv_missing:
        raise ConsentMissing(
            msg("Pour signer, cochez l'acceptation des conditions générales de vente.")
        )
    if not agreed:
        raise ConsentMissing(msg("Pour signer, cochez la mention « Bon pour accord »."))
    signer.status = SignerStatus.SIGNING
    signer.consented_at = now
    signer.ip = ip
    signer.user_agent = (user_agent or "")[:500] or None
    signer.consent_text = "\n".join(
        rules.consent_texts(
            signer.party,
            cgv_label=cgv.label,
            cgv_effective=cgv.effective_date,
            contract_number=version.contract.number,
            version=version.version,
        )
    )
    contract = version.contract
    if accepts_cgv:
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
    journal_signer(
        session,
        signer,
        request,
        "signature.consented",
        now=now,
        details={"consent": signer.consent_text, "ip": ip},
    )
    return Consent(signer.id, request.id, recorded=True)


def unapplied(session: Session, *, now: datetime) -> list[int]:
    """The signers whose consent was recorded more than LOST_AFTER ago and whose signature
    is not applied yet (its job lost, or still failing): their ids, oldest first."""
    return list(
        session.scalars(
            select(Signer.id)
            .where(Signer.status == SignerStatus.SIGNING, Signer.consented_at < now - LOST_AFTER)
            .order_by(Signer.consented_at)
        )
    )
