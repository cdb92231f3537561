"""An unfinished request's life: decline, cancel, resend, reminders (scheduled or asked now),
expiry."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.contracts.models import VersionStatus
from app.errors import FieldErrors
from app.events import recording as events
from app.events.recording import Resource
from app.mail import OutgoingMail
from app.messages import msg
from app.plaintext import text_problem
from app.rendering.french import de
from app.rendering.labels import label
from app.signatures import mails
from app.signatures.errors import (
    NotYourTurn,
    SignatureInProgress,
    SignatureRefused,
)
from app.signatures.journal import journal_about_request, journal_about_signer
from app.signatures.links import (
    Invitation,
    acting_signer,
    current_group,
    new_link,
    notify_next_group,
)
from app.signatures.models import (
    ACTIVE,
    WAITING,
    LinkReplacement,
    ReplacedSigningLink,
    RequestStatus,
    SignatureRequest,
    Signer,
    SignerStatus,
)
from app.signatures.revisions import lock_request, lock_request_or_404
from app.signatures.rules import REMINDER_GAP, ReminderPlan, next_reminder_at


def _close(
    session: Session,
    request: SignatureRequest,
    status: RequestStatus,
    *,
    now: datetime,
    actor: str,
    reason: str,
    declined_by: Signer | None = None,
) -> list[OutgoingMail]:
    """End an unfinished request; the contract version can be sent again (a new request).
    Returns the notices for every party: each signer already invited, and the sender."""
    request.status = status
    request.closed_reason = reason
    if status is RequestStatus.EXPIRED:
        for signer in request.signers:
            if signer.status not in (SignerStatus.SIGNED, SignerStatus.DECLINED):
                signer.status = SignerStatus.EXPIRED
    version = request.contract_version
    version.status = VersionStatus.GENERATED
    journal_about_request(
        session,
        request,
        f"signature.{status.value}",
        now=now,
        actor=actor,
        details={"reason": reason},
    )
    if declined_by is not None:
        events.record(
            session,
            "signer.declined",
            Resource("signer", declined_by.id),
            {"signature_request_id": request.id, "client_id": version.contract.client_id},
            now=now,
        )
    events.record(
        session,
        f"signature_request.{status.value}",
        Resource("signature_request", request.id),
        {
            "status": status.value,
            "contract": {"number": version.contract.number, "version": version.version},
            "client_id": version.contract.client_id,
        },
        now=now,
    )
    recipients = [s.email for s in request.signers if s.notified_at is not None]
    creator = session.get(User, request.created_by_id) if request.created_by_id else None
    if creator is not None and creator.email not in recipients:
        recipients.append(creator.email)
    return mails.closed_mails(request, recipients, label=label(status), reason=reason)


def _refuse_while_signing(session: Session, request: SignatureRequest) -> None:
    """A request with a consent recorded and its signature not applied yet is neither
    cancelled nor declined: the consent came first (recorded under this same request lock),
    so its signature lands, then the request can be closed (docs/architecture.md). Read
    under the caller's request lock, which every consent takes first."""
    signing = session.scalar(
        select(func.count())
        .select_from(Signer)
        .where(Signer.request_id == request.id, Signer.status == SignerStatus.SIGNING)
    )
    if signing:
        raise SignatureInProgress(
            msg("Une signature est en cours d'application ; réessayez dans un instant.")
        )


def decline(
    session: Session, token: str, reason: str, *, now: datetime, ip: str | None
) -> list[OutgoingMail]:
    reason = reason.strip()
    if not reason:
        raise FieldErrors({"reason": msg("Indiquez le motif du refus.")})
    if len(reason) > 2000:
        raise FieldErrors({"reason": msg("2 000 caractères au plus.")})
    if problem := text_problem(reason, multiline=True):
        raise FieldErrors({"reason": problem})  # a NUL was a 500 on PostgreSQL
    request = lock_request(session, acting_signer(session, token, now).request_id)
    # Lock order everywhere: the request row, then the signer row (read again once locked: a
    # consent may have been recorded meanwhile).
    signer = acting_signer(session, token, now, for_update=True)
    if request.status not in ACTIVE or signer.status not in WAITING:
        raise NotYourTurn(msg("Ce n'est pas à vous de répondre à cette demande."))
    _refuse_while_signing(session, request)
    signer.status = SignerStatus.DECLINED
    signer.declined_at = now
    signer.ip = ip
    return _close(
        session,
        request,
        RequestStatus.DECLINED,
        now=now,
        actor=f"signer:{signer.id}",
        reason=f"refus {de(signer.name)} : {reason}",
        declined_by=signer,
    )


def cancel(
    session: Session, request_id: int, reason: str, *, now: datetime, actor: str
) -> list[OutgoingMail]:
    if problem := text_problem(reason, multiline=True):
        raise FieldErrors({"reason": problem})
    request = lock_request_or_404(session, request_id)
    if request.status not in ACTIVE:
        raise SignatureRefused(msg("Seule une demande en cours peut être annulée."))
    _refuse_while_signing(session, request)
    return _close(
        session,
        request,
        RequestStatus.CANCELLED,
        now=now,
        actor=actor,
        reason=reason.strip()[:2000] or "annulée par l'expéditeur",
    )


def resend(
    session: Session, request_id: int, *, now: datetime, actor: str, link_days: int
) -> list[Invitation]:
    """New links for the signers awaited now (the old links stop working; a signer locked out
    by wrong codes gets a fresh start). The request's deadline is pushed back too."""
    request = lock_request_or_404(session, request_id)
    if request.status not in ACTIVE:
        raise SignatureRefused(msg("Seule une demande en cours peut être renvoyée."))
    request.expires_at = now + timedelta(days=link_days)
    group = current_group(request)
    for signer in request.signers:
        if signer.group == group and signer.status in WAITING:
            signer.status = SignerStatus.PENDING
            signer.otp_failures = 0
            signer.otp_locked_at = None
            signer.otp_hash = None
            signer.reminders_sent = 0
    journal_about_request(
        session, request, "signature.resent", now=now, actor=actor, details={"group": group}
    )
    return notify_next_group(session, request, now=now, link_days=link_days)


REMINDER_QUIET = timedelta(hours=12)
"""A signer who opened the link, asked for a code or entered one this recently is signing:
a reminder now would replace the link in their hands, so it waits for a later run."""


MANUAL_REMINDER_INTERVAL = REMINDER_GAP
"""A reminder asked now (the API) reaches a signer at most once a day: one mailed this
recently (invitation, reminder, new link) would only bury the previous one in their inbox."""


def _quiet(signer: Signer, now: datetime) -> bool:
    activity = [t for t in (signer.opened_at, signer.otp_sent_at, signer.authenticated_at) if t]
    return not activity or now - max(activity) >= REMINDER_QUIET


def _last_mailed(session: Session, signer: Signer) -> datetime | None:
    """When the signer was last sent a link: invited, or a link replaced since (each reminder
    and resend replaces it)."""
    replaced = session.scalar(
        select(func.max(ReplacedSigningLink.replaced_at)).where(
            ReplacedSigningLink.signer_id == signer.id
        )
    )
    sent = [t for t in (signer.notified_at, replaced) if t is not None]
    return max(sent) if sent else None


def _remind(session: Session, signer: Signer, *, now: datetime, actor: str) -> Invitation:
    token = new_link(session, signer, now=now, reason=LinkReplacement.REMINDER)
    signer.reminders_sent += 1
    journal_about_signer(
        session,
        signer,
        "signature.reminded",
        now=now,
        actor=actor,
        details={"reminder": signer.reminders_sent},
    )
    return Invitation(signer=signer, token=token)


def remind_now(
    session: Session, request_id: int, *, now: datetime, actor: str, at_most: int
) -> list[Invitation]:
    """A reminder now, asked by the sender, to each signer of the current group who has not
    signed, with a new link (as a scheduled one; it counts in `reminders_sent`, so the
    schedule goes on from there). Under the request's lock: two calls at once remind once.
    Refused (409) on a request no longer in progress, and when no signer can be reminded:
    each was mailed less than `MANUAL_REMINDER_INTERVAL` ago, had its `at_most` reminders
    already, is signing right now, or is locked out by wrong codes (a resend unlocks them)."""
    request = lock_request_or_404(session, request_id)
    if request.status not in ACTIVE:
        raise SignatureRefused(
            msg(
                "Seule une demande en cours peut être relancée (celle-ci est « "
                "{label_request_status} »).",
                label_request_status=label(request.status),
            )
        )
    group = current_group(request)
    # The signers' rows locked too, as the scheduled run locks them: one reminder, not two.
    waiting = session.scalars(
        select(Signer)
        .where(
            Signer.request_id == request.id,
            Signer.group == group,
            Signer.status.in_(WAITING),
            Signer.otp_locked_at.is_(None),
        )
        .order_by(Signer.position)
        .with_for_update()
        .execution_options(populate_existing=True)  # as they are once locked
    ).all()
    due = [
        s
        for s in waiting
        if s.reminders_sent < at_most
        and _quiet(s, now)
        and ((last := _last_mailed(session, s)) is None or now - last >= MANUAL_REMINDER_INTERVAL)
    ]
    if not due:
        raise SignatureRefused(
            msg(
                "Aucun signataire à relancer maintenant : chacun a reçu un lien il y a moins de "
                "24 heures, a déjà reçu {at_most} relance{s} (le maximum), est en train de signer "
                "ou est bloqué (renvoyez alors la demande).",
                at_most=at_most,
                s="s" if at_most > 1 else "",
            )
        )
    return [_remind(session, s, now=now, actor=actor) for s in due]


def reminder_plan(
    session: Session, signer: Signer, *, schedule: tuple[int, ...], at_most: int
) -> ReminderPlan:
    """The signer's reminders so far and the next one due (see `rules.next_reminder_at`):
    none for a signer who signed, declined or is locked out, nor in a request that ended."""
    request = signer.request
    awaited = request.status in ACTIVE and signer.status in WAITING and signer.otp_locked_at is None
    due = (
        next_reminder_at(
            notified_at=signer.notified_at,
            sent=signer.reminders_sent,
            last_mailed=_last_mailed(session, signer),
            every_days=request.reminder_every_days,
            schedule=schedule,
            at_most=at_most,
            expires_at=request.expires_at,
        )
        if awaited
        else None
    )
    return ReminderPlan(sent=signer.reminders_sent, at_most=at_most, next_at=due)


def due_reminders(
    session: Session, *, now: datetime, schedule: tuple[int, ...], at_most: int
) -> list[Invitation]:
    """Signers invited `schedule[k]` days ago (or k+1 times the request's own cadence) who
    have not signed get reminder k+1, with a new link that replaces the earlier one (see
    new_link); its expiry stays the same. At most `at_most` per signer and request, a day
    apart at least (`rules.next_reminder_at`). A signer active within ``REMINDER_QUIET`` is
    reminded on a later run. Under the signers' row locks, re-read once locked: of runs at
    once, the first reminds, the others find the reminder counted and the link just mailed."""
    reminders: list[Invitation] = []
    signers = session.scalars(
        select(Signer)
        .join(SignatureRequest)
        .where(
            SignatureRequest.status.in_(ACTIVE),
            Signer.status.in_(WAITING),
            Signer.otp_locked_at.is_(None),
            Signer.reminders_sent < at_most,
        )
        .order_by(Signer.id)
        .with_for_update(of=Signer)
        .execution_options(populate_existing=True)
    ).all()
    for signer in signers:
        due = reminder_plan(session, signer, schedule=schedule, at_most=at_most).next_at
        if due is None or now < due:
            continue
        if _quiet(signer, now):
            reminders.append(_remind(session, signer, now=now, actor="system"))
    return reminders


def expire_due(session: Session, *, now: datetime) -> tuple[list[int], list[OutgoingMail]]:
    ids = list(
        session.scalars(
            select(SignatureRequest.id).where(
                SignatureRequest.status.in_(ACTIVE),
                SignatureRequest.expires_at.is_not(None),
                SignatureRequest.expires_at <= now,
            )
        )
    )
    notices: list[OutgoingMail] = []
    expired: list[int] = []
    for request_id in ids:
        request = lock_request(session, request_id)
        if any(s.status is SignerStatus.SIGNING for s in request.signers):
            # A consent given in time waits for its signature job: the request expires on a
            # later run, if it is still unfinished once that signature is applied.
            continue
        expired.append(request_id)
        notices += _close(
            session,
            request,
            RequestStatus.EXPIRED,
            now=now,
            actor="system",
            reason="délai de signature dépassé",
        )
    return expired, notices
