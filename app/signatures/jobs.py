"""Units of work of the signature workflow that span several transactions: signing (with its
retry when another signer's signature landed meanwhile), sealing, and the periodic sweep.

Each step reads in one short transaction, does the cryptography with no transaction open,
then writes in another transaction that re-checks under row locks. A crash at any point
leaves the request either before or after a step, never half-written: new PDFs go to the blob
store first and only the final commit makes a request point at them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from app.db import transaction
from app.mail import Mailer, MailError, OutgoingMail
from app.rendering.evidence import render_evidence_pdf
from app.runtime import Runtime
from app.signatures import services
from app.signatures.errors import RevisionIntegrityFailed, StaleRevision
from signing import SigningError, SigningKey, TrustServices
from storage import BlobStore

log = logging.getLogger(__name__)

SIGN_ATTEMPTS = 5
"""How many times a signature is re-applied on the latest revision when concurrent signers
keep moving it (each signer of a group can make another one retry at most once)."""


@dataclass(frozen=True)
class Workflow:
    session_factory: sessionmaker[Session]
    store: BlobStore
    seal_key: Callable[[], SigningKey]  # PKCS#11 token or PKCS#12, loaded once
    base_url: str
    link_days: int
    sealer: str
    # TSA + trust anchors when PARAPHE_TSA_URL is set: signatures B-T, seal B-LTA; else B-B.
    trust: Callable[[], TrustServices | None] = lambda: None


def workflow_of(rt: Runtime) -> Workflow:
    return Workflow(
        session_factory=rt.session_factory,
        store=rt.store,
        seal_key=rt.signing_key,
        base_url=rt.settings.base_url,
        link_days=rt.settings.signing_link_days,
        sealer=rt.settings.vendor.legal_name,
        trust=rt.trust_services,
    )


@dataclass(frozen=True)
class SignResult:
    request_id: int
    completed: bool
    sealed: bool
    mails: list[OutgoingMail]


def sign_with_link(
    wf: Workflow,
    token: str,
    *,
    now: datetime,
    accepted_cgv: bool,
    agreed: bool,
    authenticated: bool,
    ip: str | None,
    user_agent: str | None,
) -> SignResult:
    """Sign with a signer's link; when it was the last signature, seal right away.

    Raises the services' domain errors (ConsentMissing, SigningLinkGone, NotYourTurn...);
    `RevisionIntegrityFailed` once its journal entry is committed."""
    for attempt in range(1, SIGN_ATTEMPTS + 1):
        with transaction(wf.session_factory) as session:
            try:
                prepared = services.prepare_signature(
                    session,
                    wf.store,
                    token,
                    now=now,
                    accepted_cgv=accepted_cgv,
                    agreed=agreed,
                    authenticated=authenticated,
                )
            except RevisionIntegrityFailed as exc:
                failure: RevisionIntegrityFailed | None = exc  # raised once this has committed
            else:
                failure = None
        if failure is not None:
            raise failure
        signed = services.apply_signature(prepared, wf.seal_key(), now=now, trust=wf.trust())
        try:
            with transaction(wf.session_factory) as session:
                outcome = services.record_signature(
                    session,
                    wf.store,
                    token,
                    prepared,
                    signed,
                    now=now,
                    ip=ip,
                    user_agent=user_agent,
                    link_days=wf.link_days,
                )
                version = outcome.signer.request.contract_version
                mails = [
                    services.invitation_mail(i, version, wf.base_url) for i in outcome.invitations
                ]
                completed = outcome.completed
        except StaleRevision:
            log.info("signature %s: revision moved, retry %d", prepared.signer_id, attempt)
            continue
        sealed = False
        if completed:
            try:
                completion_mails = seal_request(wf, prepared.request_id, now=now)
            except (SigningError, RevisionIntegrityFailed):
                completion_mails = None  # recorded on the request; the sweeper retries
            if completion_mails is not None:
                sealed = True
                mails.extend(completion_mails)
        return SignResult(prepared.request_id, completed, sealed, mails)
    raise StaleRevision("Le document est en cours de signature par un autre signataire.")


def seal_request(wf: Workflow, request_id: int, *, now: datetime) -> list[OutgoingMail] | None:
    """Apply the platform seal to a completed request, archive the sealed PDF and return the
    completion mails; None when there was nothing to seal (already sealed, not completed).

    The one place that produces the final document: PAdES B-LTA when a timestamp authority
    is configured (`services.apply_seal`), B-B otherwise. A signing failure (TSA down,
    revocation data unavailable...) writes nothing but the failure on the request (attempts,
    last error: the admin stuck-seal page shows it), is logged and re-raised; the sweeper
    retries. There is never a fallback to the server clock.

    A damaged or missing revision (`RevisionIntegrityFailed`) is journaled and recorded on the
    request the same way (it stays on the stuck-seal page until the blob is restored), then
    re-raised.
    """
    with transaction(wf.session_factory) as session:
        try:
            prepared = services.prepare_seal(session, wf.store, request_id, now=now)
        except RevisionIntegrityFailed as exc:
            services.record_seal_failure(session, request_id, exc.detail)
            failure: RevisionIntegrityFailed | None = exc  # raised once this has committed
        else:
            failure = None
    if failure is not None:
        log.warning("request %s completed but not sealed: %s", request_id, failure.detail)
        raise failure
    if prepared is None:
        return None
    try:
        sealed = services.apply_seal(
            prepared, wf.seal_key(), now=now, sealer=wf.sealer, trust=wf.trust()
        )
    except SigningError as exc:
        log.warning("request %s completed but not sealed: %s", request_id, exc)
        with transaction(wf.session_factory) as session:
            services.record_seal_failure(session, request_id, str(exc))
        raise
    with transaction(wf.session_factory) as session:
        completion = services.record_seal(
            session, wf.store, prepared, sealed, now=now, link_days=wf.link_days
        )
        if completion is None:
            return None
        mails = services.completion_mails(completion, wf.base_url)
    try:
        seal_evidence(wf, request_id, now=now)
    except SigningError as exc:  # the contract is sealed; the sweeper completes the evidence
        log.warning("evidence of request %s not sealed: %s", request_id, exc)
    return mails


def seal_evidence(wf: Workflow, request_id: int, *, now: datetime) -> bool:
    """Build, render, seal and archive the evidence file of a sealed request (JSON + PDF).
    False when there is nothing to do."""
    with transaction(wf.session_factory) as session:
        data = services.evidence_data(session, request_id)
    if data is None:
        return False
    json_bytes = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode()
    pdf = services.apply_evidence_seal(
        render_evidence_pdf(data), wf.seal_key(), now=now, sealer=wf.sealer, trust=wf.trust()
    )
    with transaction(wf.session_factory) as session:
        return (
            services.record_evidence(
                session, wf.store, request_id, json_bytes=json_bytes, pdf=pdf, now=now
            )
            is not None
        )


@dataclass(frozen=True)
class SweepResult:
    sealed: list[int]
    failed: list[int]
    mails: list[OutgoingMail]
    damaged: list[str] = field(default_factory=list)
    """One French line per request whose revision failed its integrity check."""


def sweep(wf: Workflow, *, now: datetime) -> SweepResult:
    """Seal every completed request whose seal did not finish (crash, TSA down...)."""
    with transaction(wf.session_factory) as session:
        ids = [r.id for r in services.stuck_requests(session)]
    sealed: list[int] = []
    failed: list[int] = []
    mails: list[OutgoingMail] = []
    damaged: list[str] = []
    for request_id in ids:
        try:
            result = seal_request(wf, request_id, now=now)
        except SigningError:
            failed.append(request_id)
            continue
        except RevisionIntegrityFailed as exc:
            failed.append(request_id)
            damaged.append(exc.detail)
            continue
        if result is not None:
            sealed.append(request_id)
            mails.extend(result)
    with transaction(wf.session_factory) as session:
        evidence_ids = services.missing_evidence(session)
    for request_id in evidence_ids:
        try:
            seal_evidence(wf, request_id, now=now)
        except SigningError:
            failed.append(request_id)
    return SweepResult(sealed, failed, mails, damaged)


def send_all(mailer: Mailer, mails: list[OutgoingMail]) -> list[str]:
    """Send after commit; returns the errors (a mail failure never undoes a signature)."""
    errors: list[str] = []
    for mail in mails:
        try:
            mailer.send(mail)
        except MailError as exc:
            errors.append(str(exc))
    return errors
