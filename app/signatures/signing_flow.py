"""A signer's signature in two parts (issue 14: nobody waits on the cryptography).

`consent` is the signing page's POST: one short transaction checks everything the signer can
get wrong and records the consent (`app.signatures.consent`); the caller then enqueues the job
`signatures.sign` (`app.signatures.tasks`), which runs `apply_consented`: read the latest
revision, sign it with no transaction open (the key, a TSA over the network), record it under
row locks, write the next group's invitations to the outbox in the same transaction. The
answer to the signer waits on none of it.

Exactly once: the signer's status is re-checked under its row lock before anything is
written, so a job run twice (a retry, the sweep, two workers) records one signature; a failure
(key or TSA down) is counted on the signer and re-raised for the queue to retry with backoff;
the sweep (`lost_signatures`) enqueues again a consent whose job was lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app.db import transaction
from app.mail import OutgoingMail
from app.messages import msg
from app.runtime import Collaborators
from app.signatures import consent, mails, revisions, signature
from app.signatures.errors import StaleRevision
from app.signatures.workflow import enqueue
from signing import SigningError

log = logging.getLogger(__name__)

SIGN_ATTEMPTS = 5
"""How many times a signature is re-applied on the latest revision when concurrent signers
keep moving it (each signer of a group can make another one retry at most once)."""


def record_consent(
    collab: Collaborators,
    token: str,
    *,
    accepted_cgv: bool,
    agreed: bool,
    authenticated: bool,
    ip: str | None,
    user_agent: str | None,
) -> consent.Consent:
    """The POST's one transaction; raises the refusals of `consent.record_consent`. When
    `Consent.recorded`, the caller enqueues the signature job."""
    with transaction(collab.session_factory) as session:
        return consent.record_consent(
            session,
            token,
            now=collab.now,
            accepted_cgv=accepted_cgv,
            agreed=agreed,
            authenticated=authenticated,
            ip=ip,
            user_agent=user_agent,
        )


@dataclass(frozen=True)
class SignResult:
    request_id: int
    completed: bool
    """The last signature: the request now waits for its seal."""
    mails: list[OutgoingMail]


def apply_consented(collab: Collaborators, signer_id: int) -> SignResult | None:
    """Apply and record the PAdES signature of a consented signer, and mail the next group;
    None when there is nothing to do (already signed, request closed). When it was the last
    signature (`SignResult.completed`), the caller enqueues the seal.

    Raises `SigningError` (recorded on the signer first) when the signature cannot be applied,
    `RevisionIntegrityFailed` once its journal entry is committed."""
    for attempt in range(1, SIGN_ATTEMPTS + 1):
        prepared = revisions.prepare_from_revision(
            collab.session_factory,
            lambda session: signature.prepare_signature(
                session, collab.store, signer_id, now=collab.now
            ),
            lambda session, detail: signature.record_sign_failure(session, signer_id, detail),
        )
        if prepared is None:
            return None
        try:
            signed = signature.apply_signature(prepared, collab.signing_key(), trust=collab.trust())
        except SigningError as exc:
            log.warning("signature of signer %s not applied: %s", signer_id, exc)
            with transaction(collab.session_factory) as session:
                signature.record_sign_failure(session, signer_id, str(exc))
            raise
        try:
            with transaction(collab.session_factory) as session:
                outcome = signature.record_signature(
                    session,
                    collab.store,
                    prepared,
                    signed,
                    now=collab.now,
                    link_days=collab.settings.signing_link_days,
                )
                if outcome is None:
                    return None
                version = outcome.signer.request.contract_version
                vendor = collab.settings.vendor.legal_name
                outgoing = [
                    mails.invitation_mail(i, version, collab.settings.base_url, vendor=vendor)
                    for i in outcome.invitations
                ]
                completed = outcome.completed
                enqueue(session, collab, outgoing)
        except StaleRevision:
            log.info("signature %s: revision moved, retry %d", signer_id, attempt)
            continue
        return SignResult(prepared.request_id, completed, outgoing)
    raise StaleRevision(msg("Le document est en cours de signature par un autre signataire."))


def lost_signatures(collab: Collaborators) -> list[int]:
    """The signers whose consent waits for a signature longer than a job takes (its job lost,
    or failing): the sweep enqueues their job again unless a run of it is under way or
    waiting for its retry (`Job.enqueue_again`; a run with nothing to do does nothing)."""
    with transaction(collab.session_factory) as session:
        return consent.unapplied(session, now=collab.now)
