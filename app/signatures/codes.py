"""One-time codes: a 6-digit code mailed for a link, checked in constant time; the fifth
wrong code locks the link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.errors import DomainError
from app.messages import msg
from app.signatures import rules
from app.signatures.errors import (
    CodeRefused,
    NotYourTurn,
    SignerLocked,
)
from app.signatures.journal import journal_about_signer
from app.signatures.links import acting_signer
from app.signatures.models import (
    ACTIVE,
    WAITING,
    Signer,
    SignerStatus,
)


@dataclass(frozen=True)
class IssuedCode:
    signer: Signer
    code: str


def issue_code(session: Session, token: str, *, now: datetime, secret: str) -> IssuedCode:
    """A new 6-digit code for the link's signer (replaces any earlier one)."""
    signer = acting_signer(session, token, now, for_update=True)
    if signer.otp_locked_at is not None:
        raise SignerLocked(LOCKED_MESSAGE)
    if signer.status not in WAITING or signer.request.status not in ACTIVE:
        raise NotYourTurn(msg("Ce n'est pas encore à vous de signer ce document."))
    code = rules.new_code()
    signer.otp_hash = rules.code_hash(secret, signer.id, code)
    signer.otp_sent_at = now
    signer.otp_expires_at = now + rules.CODE_VALIDITY
    journal_about_signer(
        session, signer, "signature.code_sent", now=now, details={"email": signer.email}
    )
    return IssuedCode(signer=signer, code=code)


LOCKED_MESSAGE = (
    "Trop de codes erronés : ce lien est bloqué. L'expéditeur du contrat a été prévenu et "
    "pourra vous envoyer un nouveau lien."
)


@dataclass(frozen=True)
class CodeCheck:
    signer: Signer
    ok: bool
    locked: bool


def verify_code(
    session: Session,
    token: str,
    code: str,
    *,
    now: datetime,
    secret: str,
    ip: str | None,
    user_agent: str | None,
) -> CodeCheck:
    """Check a code in constant time; count failures; lock on the fifth. The caller commits
    whatever the outcome (a failure must be counted) and then raises `outcome_error`; a signer
    whose signature is being applied is refused before anything is counted."""
    signer = acting_signer(session, token, now, for_update=True)
    if signer.otp_locked_at is not None:
        return CodeCheck(signer, ok=False, locked=True)
    valid = (
        signer.otp_hash is not None
        and signer.otp_expires_at is not None
        and now < signer.otp_expires_at
        and rules.code_matches(secret, signer.id, code, signer.otp_hash)
    )
    if valid:
        signer.otp_hash = None  # one time
        signer.authenticated_at = now
        if signer.status in (SignerStatus.NOTIFIED, SignerStatus.OPENED):
            signer.status = SignerStatus.AUTHENTICATED
        action = "signature.authenticated"
    else:
        signer.otp_failures += 1
        if signer.otp_failures >= rules.CODE_MAX_FAILURES:
            signer.otp_locked_at = now
            signer.otp_hash = None
            action = "signature.locked"
        else:
            action = "signature.code_refused"
    journal_about_signer(
        session,
        signer,
        action,
        now=now,
        details={"method": "email_otp", "ip": ip, "user_agent": (user_agent or "")[:200]},
    )
    return CodeCheck(signer, ok=valid, locked=signer.otp_locked_at is not None)


def code_refusal(check: CodeCheck, now: datetime) -> DomainError:
    if check.locked:
        return SignerLocked(LOCKED_MESSAGE)
    signer = check.signer
    if signer.otp_hash is None or signer.otp_expires_at is None:
        return CodeRefused(msg("Demandez d'abord un code : il vous sera envoyé par e-mail."))
    if signer.otp_expires_at <= now:
        return CodeRefused(msg("Ce code a expiré (10 minutes). Demandez-en un nouveau."))
    left = rules.CODE_MAX_FAILURES - signer.otp_failures
    return CodeRefused(
        msg(
            "Code incorrect. Il vous reste {left} essai{s_if_left_1_else} avant le blocage.",
            left=left,
            s_if_left_1_else="s" if left > 1 else "",
        )
    )
