"""The use cases of the signature workflow that span several transactions, call a signer (a
TSA over the network) or send mail: sending a version, sealing, the sweep, reminders and
expiry (a signer's signature is `app.signatures.signing_flow`). Views, CLI commands and the
queue's jobs (`app.signatures.tasks`) call these.

Each takes `app.runtime.Collaborators` and opens its own short transactions: it reads in one,
does the cryptography with no transaction open, then writes in another that re-checks under
row locks; its mails are outbox rows written in the transaction that decides them
(`app.mail.outbox.enqueue_mail`), delivered by the job `mail.deliver` once it commits. A
crash at any point leaves the request either before or after a step, never half-written (new
PDFs go to the blob store first and only the final commit makes a request point at them),
and running a function twice has the
effect of running it once: a sent version is not sent again (`AlreadySent`), a signed link
is gone, a sealed request has nothing left to seal, a reminder waits for its next due date.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.contracts.queries import get_version
from app.db import transaction
from app.documents.errors import DocumentIntegrityFailed
from app.documents.services import read_content
from app.mail import Mailer, MailError, OutgoingMail
from app.mail.outbox import enqueue_mail
from app.rendering.evidence import render_evidence_pdf
from app.runtime import Collaborators
from app.signatures import evidence, lifecycle, mails, revisions, sending
from app.signatures import seal as sealing
from app.signatures.errors import RevisionIntegrityFailed
from signing import SigningError

log = logging.getLogger(__name__)


def enqueue(
    session: Session, collab: Collaborators, outgoing: list[OutgoingMail], *, key: str | None = None
) -> list[str]:
    """Write the mails in the caller's transaction: they exist if and only if what they
    announce was committed, and go out (retried, never twice) once it is. With `key`, a
    workflow run twice writes each mail once. The errors: none, the queue retries."""
    for mail in outgoing:
        enqueue_mail(session, mail, now=collab.now, key=None if key is None else f"{key}:{mail.to}")
    return []


def send_all(mailer: Mailer, outgoing: list[OutgoingMail]) -> list[str]:
    """Send after commit (each mail an outbox row: `app.mail.outbox.QueuedMailer`); returns
    the errors (a mail failure never undoes what was done)."""
    errors: list[str] = []
    for mail in outgoing:
        try:
            mailer.send(mail)
        except MailError as exc:
            log.warning("signature mail to %s not sent: %s", mail.to, exc)
            errors.append(str(exc))
    return errors


# --- sending ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    request_id: int
    document_id: int  # the contract's PDF the signers read (its page images follow)
    mails: list[OutgoingMail]
    mail_errors: list[str]


def send_version(
    collab: Collaborators,
    contract_id: int,
    number: int,
    *,
    user_id: int | None,
    parallel: bool,
    actor: str | None = None,
    link_days: int | None = None,
    reminder_every_days: int | None = None,
) -> Sent:
    """Certify version `number` of the contract for its signers, create the request and mail
    the first group. Raises `AlreadySent` when the version already has its request (a second
    click, even one racing this one: nothing is written and nobody is mailed twice),
    `DocumentIntegrityFailed` (journaled) when the contract's PDF is damaged, `SigningError`
    when the certification fails (the TSA is down): nothing is recorded then. `actor`: who
    is journaled when no user sends (an API token); else the user. `link_days`: how long
    the request and its links last (default: the instance's setting); `reminder_every_days`:
    the request's reminder cadence (default: the instance's schedule)."""
    actor = actor or f"user:{user_id}"
    with transaction(collab.session_factory) as session:
        version = get_version(session, contract_id, number)
        sending.ensure_sendable(version)
        try:
            original = read_content(
                session, collab.store, version.document, actor=actor, now=collab.now
            )
        except DocumentIntegrityFailed as exc:
            failure: DocumentIntegrityFailed | None = exc  # raised once this has committed
        else:
            failure = None
            n_signers = len(sending.signers_of_version(version, parallel=parallel))
    if failure is not None:
        raise failure
    # No transaction is open while the timestamp authority answers.
    certified = sending.certify_document(
        original,
        n_signers,
        collab.signing_key(),
        now=collab.now,
        certifier=collab.settings.vendor.legal_name,
        trust=collab.trust(),
    )
    with transaction(collab.session_factory) as session:
        version = get_version(session, contract_id, number)
        request, invitations = sending.send_for_signature(
            session,
            collab.store,
            version=version,
            certified=certified,
            now=collab.now,
            actor=actor,
            created_by_id=user_id,
            link_days=link_days or collab.settings.signing_link_days,
            parallel=parallel,
            reminder_every_days=reminder_every_days,
        )
        outgoing = [
            mails.invitation_mail(i, version, collab.settings.base_url, vendor=_vendor(collab))
            for i in invitations
        ]
        request_id = request.id
        document_id = version.document.id
        # Mail goes out only once the request exists for sure: with its commit.
        errors = enqueue(session, collab, outgoing)
    return Sent(request_id, document_id, outgoing, errors)


def _vendor(collab: Collaborators) -> str:
    """Who asks, named in the signers' mails."""
    return collab.settings.vendor.legal_name


# --- the platform seal --------------------------------------------------------------------------


def seal(collab: Collaborators, request_id: int) -> list[OutgoingMail] | None:
    """Seal a completed request and mail every signer the signed document's link; the mails
    sent, or None when there was nothing to seal (already sealed, not completed). Raises
    like `_seal`."""
    return _seal(collab, request_id)


def _seal(collab: Collaborators, request_id: int) -> list[OutgoingMail] | None:
    """Apply the platform seal to a completed request, archive the sealed PDF and return the
    completion mails (written to the outbox with the seal, keyed by the request: a seal job run
    twice mails once); None when there was nothing to seal.

    The one place that produces the final document: PAdES B-LTA when a timestamp authority
    is configured (`seal.apply_seal`), B-B otherwise. A signing failure (TSA down,
    revocation data unavailable...) writes nothing but the failure on the request (attempts,
    last error: the admin stuck-seal page shows it), is logged and re-raised; the sweeper
    retries. There is never a fallback to the server clock.

    A damaged or missing revision (`RevisionIntegrityFailed`) is journaled and recorded on the
    request the same way (it stays on the stuck-seal page until the blob is restored), then
    re-raised.
    """
    now = collab.now
    try:
        prepared = revisions.prepare_from_revision(
            collab.session_factory,
            lambda session: sealing.prepare_seal(session, collab.store, request_id, now=now),
            lambda session, detail: sealing.record_seal_failure(session, request_id, detail),
        )
    except RevisionIntegrityFailed as failure:
        log.warning("request %s completed but not sealed: %s", request_id, failure.detail)
        raise
    if prepared is None:
        return None
    sealer = collab.settings.vendor.legal_name
    try:
        sealed = sealing.apply_seal(
            prepared,
            collab.signing_key(),
            now=now,
            sealer=sealer,
            trust=collab.trust(),
            stamp=collab.seal_stamp,
        )
    except SigningError as exc:
        log.warning("request %s completed but not sealed: %s", request_id, exc)
        with transaction(collab.session_factory) as session:
            sealing.record_seal_failure(session, request_id, str(exc))
        raise
    with transaction(collab.session_factory) as session:
        completion = sealing.record_seal(
            session,
            collab.store,
            prepared,
            sealed,
            now=now,
            link_days=collab.settings.signing_link_days,
        )
        if completion is None:
            return None
        outgoing = mails.completion_mails(
            completion, collab.settings.base_url, vendor=_vendor(collab)
        )
        enqueue(session, collab, outgoing, key=f"signatures.completed:{request_id}")
    try:
        seal_evidence(collab, request_id)
    except SigningError as exc:  # the contract is sealed; the sweeper completes the evidence
        log.warning("evidence of request %s not sealed: %s", request_id, exc)
    return outgoing


def seal_evidence(collab: Collaborators, request_id: int) -> bool:
    """Build, render, seal and archive the evidence file of a sealed request (JSON + PDF).
    False when there is nothing to do."""
    with transaction(collab.session_factory) as session:
        data = evidence.evidence_data(session, request_id)
    if data is None:
        return False
    json_bytes = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode()
    pdf = evidence.apply_evidence_seal(
        render_evidence_pdf(data),
        collab.signing_key(),
        now=collab.now,
        sealer=collab.settings.vendor.legal_name,
        trust=collab.trust(),
    )
    with transaction(collab.session_factory) as session:
        recorded = evidence.record_evidence(
            session, collab.store, request_id, json_bytes=json_bytes, pdf=pdf, now=collab.now
        )
        return recorded is not None


@dataclass(frozen=True)
class SweepResult:
    sealed: list[int]
    failed: list[int]
    mails: list[OutgoingMail]
    damaged: list[str] = field(default_factory=list)
    """One French line per request whose revision failed its integrity check."""
    mail_errors: list[str] = field(default_factory=list)


def sweep(collab: Collaborators) -> SweepResult:
    """Seal every completed request whose seal did not finish (crash, TSA down...), and
    complete every missing evidence file."""
    with transaction(collab.session_factory) as session:
        ids = [r.id for r in sealing.stuck_requests(session)]
    sealed: list[int] = []
    failed: list[int] = []
    outgoing: list[OutgoingMail] = []
    damaged: list[str] = []
    for request_id in ids:
        try:
            result = _seal(collab, request_id)
        except SigningError:
            failed.append(request_id)
            continue
        except RevisionIntegrityFailed as exc:
            failed.append(request_id)
            damaged.append(exc.detail)
            continue
        if result is not None:
            sealed.append(request_id)
            outgoing.extend(result)
    with transaction(collab.session_factory) as session:
        evidence_ids = evidence.missing_evidence(session)
    for request_id in evidence_ids:
        try:
            seal_evidence(collab, request_id)
        except SigningError:
            failed.append(request_id)
    return SweepResult(sealed, failed, outgoing, damaged)


# --- periodic work ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Notified:
    count: int
    mails: list[OutgoingMail]
    mail_errors: list[str]
    contract_id: int | None = None
    """The contract of the one request acted on (cancel, resend, decline), for the page after."""


def remind(collab: Collaborators) -> Notified:
    """Remind every signer whose reminder is due (`PARAPHE_REMINDER_DAYS` or the request's
    cadence, at most `PARAPHE_REMINDER_MAX`), each with a new link replacing the earlier one."""
    with transaction(collab.session_factory) as session:
        due = lifecycle.due_reminders(
            session,
            now=collab.now,
            schedule=collab.settings.reminder_days,
            at_most=collab.settings.reminder_max,
        )
        outgoing = [
            mails.reminder_mail(i, collab.settings.base_url, vendor=_vendor(collab)) for i in due
        ]
        errors = enqueue(session, collab, outgoing)
    return Notified(len(outgoing), outgoing, errors)


def remind_now(collab: Collaborators, request_id: int, *, actor: str) -> Notified:
    """The sender's reminder now (see `lifecycle.remind_now`): one mail per signer reminded,
    written with the reminders in one transaction (a call replayed mails nobody twice)."""
    with transaction(collab.session_factory) as session:
        due = lifecycle.remind_now(
            session, request_id, now=collab.now, actor=actor, at_most=collab.settings.reminder_max
        )
        outgoing = [
            mails.reminder_mail(i, collab.settings.base_url, vendor=_vendor(collab)) for i in due
        ]
        errors = enqueue(session, collab, outgoing)
    return Notified(len(outgoing), outgoing, errors)


def expire(collab: Collaborators) -> Notified:
    """Close every request past its deadline and tell its parties."""
    with transaction(collab.session_factory) as session:
        ids, outgoing = lifecycle.expire_due(session, now=collab.now)
        errors = enqueue(session, collab, outgoing)
    return Notified(len(ids), outgoing, errors)


# --- a request's parties act ----------------------------------------------------------------------


def cancel(
    collab: Collaborators,
    request_id: int,
    reason: str,
    *,
    user_id: int | None,
    actor: str | None = None,
) -> Notified:
    """The sender (a user, or an API token: `actor`) cancels an unfinished request; every
    party is told."""
    with transaction(collab.session_factory) as session:
        outgoing = lifecycle.cancel(
            session, request_id, reason, now=collab.now, actor=actor or f"user:{user_id}"
        )
        contract_id = revisions.get_request(session, request_id).contract_version.contract_id
        errors = enqueue(session, collab, outgoing)
    return Notified(1, outgoing, errors, contract_id)


def resend(collab: Collaborators, request_id: int, *, user_id: int) -> Notified:
    """New links for the signers awaited now, mailed (see `lifecycle.resend`)."""
    with transaction(collab.session_factory) as session:
        invitations = lifecycle.resend(
            session,
            request_id,
            now=collab.now,
            actor=f"user:{user_id}",
            link_days=collab.settings.signing_link_days,
        )
        version = revisions.get_request(session, request_id).contract_version
        outgoing = [
            mails.invitation_mail(i, version, collab.settings.base_url, vendor=_vendor(collab))
            for i in invitations
        ]
        contract_id = version.contract_id
        errors = enqueue(session, collab, outgoing)
    return Notified(len(outgoing), outgoing, errors, contract_id)


def decline(collab: Collaborators, token: str, reason: str, *, ip: str | None) -> Notified:
    """The link's signer declines to sign: the request ends and every party is told."""
    with transaction(collab.session_factory) as session:
        outgoing = lifecycle.decline(session, token, reason, now=collab.now, ip=ip)
        errors = enqueue(session, collab, outgoing)
    return Notified(1, outgoing, errors)
