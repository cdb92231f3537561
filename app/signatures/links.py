"""Signer links: invitations group by group, one valid link per signer (a reminder or a
resend replaces it, and the replaced link explains which mail to use), opening a link, and
the documents a link gives access to (CGV, signed contract, completion download)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.documents.models import Document
from app.events import recording as events
from app.events.recording import Resource
from app.messages import Moment, msg
from app.signatures import rules
from app.signatures.errors import (
    SignatureInProgress,
    SignatureRefused,
    SigningLinkGone,
    SigningLinkUnknown,
)
from app.signatures.journal import journal_about_signer
from app.signatures.models import (
    LinkReplacement,
    ReplacedSigningLink,
    RequestStatus,
    SignatureRequest,
    Signer,
    SignerStatus,
)
from app.terms import versions as terms
from app.tokens import new_link_token, token_hash
from storage import BlobStore


@dataclass(frozen=True)
class Invitation:
    signer: Signer
    token: str


def current_group(request: SignatureRequest) -> int | None:
    """The lowest group with a signer who has not signed; None when all have signed."""
    open_groups = [s.group for s in request.signers if s.status is not SignerStatus.SIGNED]
    return min(open_groups) if open_groups else None


def notify_next_group(
    session: Session, request: SignatureRequest, *, now: datetime, link_days: int
) -> list[Invitation]:
    """Give a link to every pending signer of the current group (the caller mails them)."""
    group = current_group(request)
    invitations: list[Invitation] = []
    for signer in request.signers:
        if signer.group == group and signer.status is SignerStatus.PENDING:
            # After a resend, the signer's earlier link is replaced (see new_link).
            token = new_link(session, signer, now=now, reason=LinkReplacement.RESEND)
            deadline = now + timedelta(days=link_days)
            if request.expires_at is not None:
                deadline = min(deadline, request.expires_at)
            signer.token_expires_at = deadline
            signer.status = SignerStatus.NOTIFIED
            signer.notified_at = now
            invitations.append(Invitation(signer=signer, token=token))
            journal_about_signer(
                session,
                signer,
                "signature.notified",
                now=now,
                actor="system",
                details={"email": signer.email, "group": signer.group},
            )
    return invitations


def new_link(session: Session, signer: Signer, *, now: datetime, reason: LinkReplacement) -> str:
    """A new link token for ``signer``, replacing its current one, if any.

    One valid link per signer at a time: links are stored hashed only (the token exists only
    in the mail sent), so a reminder or a resend cannot mail the same link again and issues a
    new one. The earlier link stops working at once; its hash is kept so that opening it
    explains which mail to use instead (see find_signer)."""
    if signer.token_hash is not None:
        session.add(
            ReplacedSigningLink(
                signer=signer, token_hash=signer.token_hash, replaced_at=now, reason=reason
            )
        )
    token = new_link_token()
    signer.token_hash = token_hash(token)
    return token


def find_signer(
    session: Session,
    token: str,
    now: datetime,
    *,
    for_update: bool = False,
    allow_signed: bool = False,
) -> Signer:
    stmt = select(Signer).where(Signer.token_hash == token_hash(token))
    if for_update:
        # As the row is once locked: an earlier read of this session may predate the
        # transaction that held the lock (a consent, a cancellation).
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    signer = session.scalar(stmt)
    if signer is None:
        _refuse_replaced_link(session, token)
        raise SigningLinkUnknown(
            msg("Ce lien de signature n'existe pas. Vérifiez l'adresse reçue.")
        )
    if signer.status is SignerStatus.SIGNED and not allow_signed:
        raise SigningLinkGone(
            msg(
                "Ce lien a déjà servi : le document a été signé le {when}.",
                when=Moment(signer.signed_at),
            )
            if signer.signed_at
            else msg("Ce lien a déjà servi : le document a été signé.")
        )
    expires = signer.token_expires_at
    if expires is not None and expires <= now and signer.status is not SignerStatus.SIGNED:
        raise SigningLinkGone(msg("Ce lien de signature a expiré. Demandez un nouvel envoi."))
    if signer.request.status in (
        RequestStatus.CANCELLED,
        RequestStatus.EXPIRED,
        RequestStatus.DECLINED,
    ):
        raise SigningLinkGone(msg("Cette demande de signature n'est plus active."))
    return signer


SIGNING_MESSAGE = (
    "Votre signature est en cours d'application : votre accord est enregistré et ne peut plus "
    "être retiré ni refusé. Cette page suit son avancement."
)


def acting_signer(
    session: Session, token: str, now: datetime, *, for_update: bool = False
) -> Signer:
    """The link's signer about to act (ask for a code, enter one, decline). Once its consent
    is recorded, its signature is being applied (the job `signatures.sign`): every action is
    refused with `SignatureInProgress`, before anything is counted or written."""
    signer = find_signer(session, token, now, for_update=for_update)
    if signer.status is SignerStatus.SIGNING:
        raise SignatureInProgress(SIGNING_MESSAGE)
    return signer


def _refuse_replaced_link(session: Session, token: str) -> None:
    """A link replaced by a reminder's or a resend's: say so (410) rather than "unknown"."""
    replaced = session.scalar(
        select(ReplacedSigningLink).where(ReplacedSigningLink.token_hash == token_hash(token))
    )
    if replaced is None:
        return
    if replaced.signer.status is SignerStatus.SIGNED:
        raise SigningLinkGone(
            msg("Ce lien a été remplacé par un plus récent, avec lequel le document a été signé.")
        )
    when = Moment(replaced.replaced_at)
    by = (
        msg("celui du courriel de rappel envoyé")
        if replaced.reason is LinkReplacement.REMINDER
        else msg("celui d'un nouvel envoi de la demande,")
    )
    raise SigningLinkGone(
        msg(
            "Ce lien a été remplacé par {by} le {when}. Pour signer, utilisez le lien du "
            "courriel le plus récent reçu de Paraphe.",
            by=by,
            when=when,
        )
    )


def open_link(
    session: Session, token: str, *, now: datetime, ip: str | None, user_agent: str | None
) -> Signer:
    signer = find_signer(session, token, now)
    if signer.status is SignerStatus.NOTIFIED:
        signer.status = SignerStatus.OPENED
        signer.opened_at = now
        journal_about_signer(
            session,
            signer,
            "signature.opened",
            now=now,
            details={"ip": ip, "user_agent": (user_agent or "")[:200]},
        )
    return signer


def mark_viewed(session: Session, token: str, *, now: datetime) -> bool:
    """The signer, authenticated by its code, views the document: the first time only, journal
    it and record `signer.viewed` (the row lock makes two views at once record one). Whether
    this view was the first."""
    signer = find_signer(session, token, now, for_update=True, allow_signed=True)
    if signer.authenticated_at is None or signer.viewed_at is not None:
        return False
    signer.viewed_at = now
    request = signer.request
    journal_about_signer(
        session,
        signer,
        "signature.document_viewed",
        now=now,
        details={"contract_version_id": request.contract_version_id},
    )
    events.record(
        session,
        "signer.viewed",
        Resource("signer", signer.id),
        {
            "signature_request_id": request.id,
            "contract": {
                "number": request.contract_version.contract.number,
                "version": request.contract_version.version,
            },
            "viewed_at": now.isoformat(),
        },
        now=now,
    )
    return True


def cgv_document(
    session: Session, store: BlobStore, token: str, *, vendor_name: str, now: datetime
) -> Document:
    """The exact CGV version of the signer's contract as a PDF: the version's own archived
    PDF/A (rendered once, the same document the public CGV address serves)."""
    signer = find_signer(session, token, now, allow_signed=True)
    cgv = signer.request.contract_version.cgv_version
    return terms.archive_pdf(
        session, store, cgv, vendor_name=vendor_name, now=now, actor=f"signer:{signer.id}"
    )


def signed_document_for(session: Session, token: str, now: datetime) -> Document:
    signer = find_signer(session, token, now, allow_signed=True)
    document = signer.request.signed_document
    if signer.status is not SignerStatus.SIGNED or document is None:
        raise SignatureRefused(msg("Le document n'est pas encore signé par toutes les parties."))
    if signer.token_expires_at is not None and signer.token_expires_at <= now:
        raise SigningLinkGone(msg("Ce lien a expiré ; demandez le document signé à votre contact."))
    return document


def document_for_download_token(session: Session, token: str, now: datetime) -> Document:
    """The signed contract the completion link gives, while the link is valid."""
    signer = session.scalar(select(Signer).where(Signer.download_token_hash == token_hash(token)))
    if signer is None or signer.request.signed_document is None:
        raise SigningLinkUnknown(msg("Ce lien de téléchargement n'existe pas."))
    completed_at = signer.request.completed_at
    expiry = rules.download_link_expiry(completed_at) if completed_at is not None else None
    if expiry is not None and expiry <= now:
        raise SigningLinkGone(
            msg(
                "Ce lien de téléchargement a expiré le {when}. Le contrat signé reste disponible "
                "dans votre espace client ; vous pouvez aussi le demander à votre contact.",
                when=Moment(expiry),
            )
        )
    return signer.request.signed_document
