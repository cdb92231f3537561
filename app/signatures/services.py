"""The signature workflow: send, open, sign (several signers, in groups), seal.

At send, the contract gets one revision holding EVERY signature field (one visible field per
signer, on the box the contract's signature page draws for it, plus the invisible seal
field); each signer then fills only its own field, and the platform seal fills the last one.

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

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import services as audit
from app.audit.models import AuditEvent
from app.auth.models import User
from app.clock import PARIS
from app.contracts.models import ContractVersion, VersionStatus
from app.documents.models import Document, DocumentKind
from app.documents.services import deposit, get_document, read_content
from app.errors import DomainError, FieldErrors
from app.mail import OutgoingMail
from app.plaintext import text_problem
from app.rendering.geometry import signature_boxes
from app.signatures import rules
from app.signatures.errors import (
    AlreadySent,
    ArchivedNotAPdf,
    CodeRefused,
    ConsentMissing,
    NotAPdf,
    NotAuthenticated,
    NotYourTurn,
    RequestNotFound,
    RevisionIntegrityFailed,
    SignatureRefused,
    SignerLocked,
    SigningLinkGone,
    SigningLinkUnknown,
    StaleRevision,
)
from app.signatures.models import (
    LinkReplacement,
    ReplacedSigningLink,
    RequestStatus,
    SignatureRequest,
    Signer,
    SignerStatus,
)
from app.terms.acceptances import record_acceptance
from app.terms.models import AcceptanceMethod, CgvAcceptance
from app.terms.versions import archive_pdf
from app.tokens import new_link_token, token_hash
from signing import (
    InvalidPdfError,
    SignatureBox,
    SignatureFieldSpec,
    SigningKey,
    SignSpec,
    TrustServices,
    VerificationReport,
    certify_pdf,
    seal_pdf,
    sign_pdf,
    verify_pdf,
)
from storage import BlobCorrupted, BlobNotFound, BlobStore

SEAL_FIELD = "cachet-plateforme"
CERTIFICATION_FIELD = "certification"
CLIENT = rules.CLIENT_PARTY
VENDOR = "vendor"
ACTIVE = (RequestStatus.SENT, RequestStatus.PARTIALLY_SIGNED)
WAITING = (
    SignerStatus.NOTIFIED,
    SignerStatus.OPENED,
    SignerStatus.AUTHENTICATED,
)


@dataclass(frozen=True)
class Invitation:
    signer: Signer
    token: str


@dataclass(frozen=True)
class SignerInput:
    name: str
    email: str
    role: str
    party: str
    group: int


def signers_of_version(version: ContractVersion, *, parallel: bool) -> list[SignerInput]:
    """The signers printed on the version's signature page, in the same order: the client's
    signer, then the vendor's countersigner (after the client, or at the same time)."""
    client = version.contract.client
    signers = [
        SignerInput(
            name=client.signer_name,
            email=client.signer_email,
            role=f"Pour {client.legal_name}",
            party=CLIENT,
            group=1,
        )
    ]
    if version.countersigner_name and version.countersigner_email:
        signers.append(
            SignerInput(
                name=version.countersigner_name,
                email=version.countersigner_email,
                role="Contresignature du fournisseur",
                party=VENDOR,
                group=1 if parallel else 2,
            )
        )
    return signers


def field_specs(n_signers: int) -> list[SignatureFieldSpec]:
    """Every field of a request: signer i's visible box on the last page, then the seal."""
    specs = [
        SignatureFieldSpec(
            name=f"signature-{i + 1}", box=SignatureBox(page=-1, x1=x1, y1=y1, x2=x2, y2=y2)
        )
        for i, (x1, y1, x2, y2) in enumerate(signature_boxes(n_signers))
    ]
    return [*specs, SignatureFieldSpec(name=SEAL_FIELD, box=None)]


def ensure_sendable(version: ContractVersion) -> None:
    if version.status in (VersionStatus.SENT, VersionStatus.SIGNED):
        state = "envoyée pour signature" if version.status is VersionStatus.SENT else "signée"
        raise AlreadySent(
            f"La version {version.version} du contrat {version.contract.number} est déjà "
            f"{state} : voici sa demande de signature, rien n'a été renvoyé."
        )
    if version.status is not VersionStatus.GENERATED:
        raise SignatureRefused(
            f"La version {version.version} du contrat {version.contract.number} a déjà été "
            "envoyée ou signée."
        )


def lock_version(session: Session, version_id: int) -> ContractVersion:
    """The version, locked until the transaction ends (FOR UPDATE; SQLite ignores it and has
    the transaction's write lock already), with its columns re-read from the database."""
    version = session.scalars(
        select(ContractVersion)
        .where(ContractVersion.id == version_id)
        .with_for_update(of=ContractVersion)
        .execution_options(populate_existing=True)
    ).one()
    return version


def certify_document(
    pdf: bytes,
    n_signers: int,
    key: SigningKey,
    *,
    now: datetime,
    certifier: str,
    trust: TrustServices | None = None,
) -> bytes:
    """The first revision of a request: the platform's certification (DocMDP P=2, form
    filling only) creating every field: one visible box per signer and the invisible seal
    field. Pure cryptography, no session: with ``trust`` the certification is timestamped
    (a network call: run it with no transaction open; TimestampError when the TSA fails)."""
    return certify_pdf(
        pdf,
        key,
        field_specs(n_signers),
        SignSpec(
            field_name=CERTIFICATION_FIELD,
            signer_name=certifier,
            signed_at=now.astimezone(PARIS),
            reason="Certification : seules les signatures prévues peuvent être ajoutées",
            location="Paraphe",
        ),
        services=trust,
    )


def send_for_signature(
    session: Session,
    store: BlobStore,
    *,
    version: ContractVersion,
    certified: bytes,
    now: datetime,
    actor: str,
    created_by_id: int | None,
    link_days: int,
    parallel: bool = False,
) -> tuple[SignatureRequest, list[Invitation]]:
    """Create the request on ``certified``, the version's document certified by
    :func:`certify_document` for as many signers as :func:`signers_of_version` gives.

    One request per version, whatever the timing (a double-click, a retry): the version row
    is locked and re-read before its status is checked, so a second send waits for the first
    to commit and then raises :class:`AlreadySent` (on SQLite, BEGIN IMMEDIATE serialises the
    two transactions instead). The partial unique index ``uq_signature_requests_live_version``
    holds the rule for any other writer."""
    version = lock_version(session, version.id)
    ensure_sendable(version)
    inputs = signers_of_version(version, parallel=parallel)
    # The certification is an incremental update of this very version's document: its first
    # bytes hash to the document's SHA-256 (the view read those bytes through the integrity
    # check; the store is not read again, so a blob damaged meanwhile cannot make this a 500).
    document = version.document
    if hashlib.sha256(certified[: document.size]).hexdigest() != document.sha256:
        raise SignatureRefused("Le document certifié n'est pas celui de cette version.")
    prepared = certified
    ref = store.put(prepared)
    request = SignatureRequest(
        contract_version_id=version.id,
        contract_version=version,
        status=RequestStatus.SENT,
        current_sha256=ref.sha256,
        created_at=now,
        expires_at=now + timedelta(days=link_days),
        created_by_id=created_by_id,
        seal_attempts=0,
    )
    try:
        with session.begin_nested():
            session.add(request)
    except IntegrityError as exc:
        raise AlreadySent(
            f"La version {version.version} du contrat {version.contract.number} a déjà une "
            "demande de signature en cours : rien n'a été renvoyé."
        ) from exc
    for position, data in enumerate(inputs, start=1):
        session.add(
            Signer(
                request_id=request.id,
                request=request,
                position=position,
                group=data.group,
                party=data.party,
                role=data.role,
                field_name=f"signature-{position}",
                name=data.name,
                email=data.email,
                status=SignerStatus.PENDING,
            )
        )
    version.status = VersionStatus.SENT
    session.flush()
    session.refresh(request, ["signers"])
    audit.record(
        session,
        now=now,
        actor=actor,
        action="signature.requested",
        subject_type="signature_request",
        subject_id=request.id,
        client_id=version.contract.client_id,
        details={
            "contract": version.contract.number,
            "version": version.version,
            "signers": [s.email for s in request.signers],
            "groups": [s.group for s in request.signers],
            "prepared_sha256": ref.sha256,
        },
    )
    return request, notify_next_group(session, request, now=now, link_days=link_days)


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
            # After a resend, the signer's earlier link is replaced (see _new_link).
            token = _new_link(session, signer, now=now, reason=LinkReplacement.RESEND)
            deadline = now + timedelta(days=link_days)
            if request.expires_at is not None:
                deadline = min(deadline, request.expires_at)
            signer.token_expires_at = deadline
            signer.status = SignerStatus.NOTIFIED
            signer.notified_at = now
            invitations.append(Invitation(signer=signer, token=token))
            audit.record(
                session,
                now=now,
                actor="system",
                action="signature.notified",
                subject_type="signer",
                subject_id=signer.id,
                client_id=request.contract_version.contract.client_id,
                details={"email": signer.email, "group": signer.group},
            )
    return invitations


def invitation_mail(
    invitation: Invitation, version: ContractVersion, base_url: str
) -> OutgoingMail:
    signer = invitation.signer
    link = f"{base_url}/signature/{invitation.token}"
    assert signer.token_expires_at is not None
    expires = signer.token_expires_at.astimezone(PARIS).strftime("%d/%m/%Y")
    return OutgoingMail(
        to=signer.email,
        subject=f"Contrat {version.contract.number} à signer",
        text=(
            f"Bonjour {signer.name},\n\n"
            f"Vous êtes invité à signer le contrat {version.contract.number} "
            f"(version {version.version}) entre {version.contract.client.legal_name} et son "
            f"fournisseur, en tant que signataire « {signer.role} ».\n\n"
            f"Pour lire et signer le document, ouvrez ce lien personnel :\n{link}\n\n"
            f"Ce lien est valable jusqu'au {expires}. Ne le transférez pas : il vous "
            "identifie comme signataire.\n\n-- \nParaphe\n"
        ),
    )


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
        stmt = stmt.with_for_update()
    signer = session.scalar(stmt)
    if signer is None:
        _refuse_replaced_link(session, token)
        raise SigningLinkUnknown("Ce lien de signature n'existe pas. Vérifiez l'adresse reçue.")
    if signer.status is SignerStatus.SIGNED and not allow_signed:
        when = signer.signed_at.astimezone(PARIS) if signer.signed_at else None
        raise SigningLinkGone(
            "Ce lien a déjà servi : le document a été signé"
            + (f" le {when:%d/%m/%Y à %H:%M}." if when else ".")
        )
    expires = signer.token_expires_at
    if expires is not None and expires <= now and signer.status is not SignerStatus.SIGNED:
        raise SigningLinkGone("Ce lien de signature a expiré. Demandez un nouvel envoi.")
    if signer.request.status in (
        RequestStatus.CANCELLED,
        RequestStatus.EXPIRED,
        RequestStatus.DECLINED,
    ):
        raise SigningLinkGone("Cette demande de signature n'est plus active.")
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
            "Ce lien a été remplacé par un plus récent, avec lequel le document a été signé."
        )
    when = replaced.replaced_at.astimezone(PARIS)
    by = (
        "celui du courriel de rappel envoyé"
        if replaced.reason is LinkReplacement.REMINDER
        else "celui d'un nouvel envoi de la demande,"
    )
    raise SigningLinkGone(
        f"Ce lien a été remplacé par {by} le {when:%d/%m/%Y à %H:%M}. "
        "Pour signer, utilisez le lien du courriel le plus récent reçu de Paraphe."
    )


def open_link(
    session: Session, token: str, *, now: datetime, ip: str | None, user_agent: str | None
) -> Signer:
    signer = find_signer(session, token, now)
    if signer.status is SignerStatus.NOTIFIED:
        signer.status = SignerStatus.OPENED
        signer.opened_at = now
        audit.record(
            session,
            now=now,
            actor=f"signer:{signer.id}",
            action="signature.opened",
            subject_type="signer",
            subject_id=signer.id,
            client_id=signer.request.contract_version.contract.client_id,
            details={"ip": ip, "user_agent": (user_agent or "")[:200]},
        )
    return signer


def cgv_document(
    session: Session, store: BlobStore, token: str, *, vendor_name: str, now: datetime
) -> Document:
    """The exact CGV version of the signer's contract as a PDF: the version's own archived
    PDF/A (rendered once, the same document the public CGV address serves)."""
    signer = find_signer(session, token, now, allow_signed=True)
    cgv = signer.request.contract_version.cgv_version
    return archive_pdf(
        session, store, cgv, vendor_name=vendor_name, now=now, actor=f"signer:{signer.id}"
    )


# --- one-time codes -------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedCode:
    signer: Signer
    code: str


def issue_code(session: Session, token: str, *, now: datetime, secret: str) -> IssuedCode:
    """A new 6-digit code for the link's signer (replaces any earlier one)."""
    signer = find_signer(session, token, now, for_update=True)
    if signer.otp_locked_at is not None:
        raise SignerLocked(LOCKED_MESSAGE)
    if signer.status not in WAITING or signer.request.status not in ACTIVE:
        raise NotYourTurn("Ce n'est pas encore à vous de signer ce document.")
    code = rules.new_code()
    signer.otp_hash = rules.code_hash(secret, signer.id, code)
    signer.otp_sent_at = now
    signer.otp_expires_at = now + rules.CODE_VALIDITY
    audit.record(
        session,
        now=now,
        actor=f"signer:{signer.id}",
        action="signature.code_sent",
        subject_type="signer",
        subject_id=signer.id,
        client_id=signer.request.contract_version.contract.client_id,
        details={"email": signer.email},
    )
    return IssuedCode(signer=signer, code=code)


LOCKED_MESSAGE = (
    "Trop de codes erronés : ce lien est bloqué. L'expéditeur du contrat a été prévenu et "
    "pourra vous envoyer un nouveau lien."
)


def code_mail(issued: IssuedCode) -> OutgoingMail:
    version = issued.signer.request.contract_version
    return OutgoingMail(
        to=issued.signer.email,
        subject=f"Votre code de signature : {issued.code}",
        text=(
            f"Bonjour {issued.signer.name},\n\n"
            f"Votre code pour signer le contrat {version.contract.number} est : {issued.code}\n\n"
            "Il est valable 10 minutes. Ne le communiquez à personne : Paraphe ne vous le "
            "demandera jamais par téléphone.\n\n-- \nParaphe\n"
        ),
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
    whatever the outcome (a failure must be counted) and then raises `outcome_error`."""
    signer = find_signer(session, token, now, for_update=True)
    client_id = signer.request.contract_version.contract.client_id
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
    audit.record(
        session,
        now=now,
        actor=f"signer:{signer.id}",
        action=action,
        subject_type="signer",
        subject_id=signer.id,
        client_id=client_id,
        details={"method": "email_otp", "ip": ip, "user_agent": (user_agent or "")[:200]},
    )
    return CodeCheck(signer, ok=valid, locked=signer.otp_locked_at is not None)


def code_refusal(check: CodeCheck, now: datetime) -> DomainError:
    if check.locked:
        return SignerLocked(LOCKED_MESSAGE)
    signer = check.signer
    if signer.otp_hash is None or signer.otp_expires_at is None:
        return CodeRefused("Demandez d'abord un code : il vous sera envoyé par e-mail.")
    if signer.otp_expires_at <= now:
        return CodeRefused("Ce code a expiré (10 minutes). Demandez-en un nouveau.")
    left = rules.CODE_MAX_FAILURES - signer.otp_failures
    return CodeRefused(
        f"Code incorrect. Il vous reste {left} essai{'s' if left > 1 else ''} avant le blocage."
    )


def locked_mail(signer: Signer, sender_email: str) -> OutgoingMail:
    """Tell the sender of the request that a signer is locked out."""
    number = signer.request.contract_version.contract.number
    return OutgoingMail(
        to=sender_email,
        subject=f"Contrat {number} : signataire bloqué",
        text=(
            f"Bonjour,\n\n{signer.name} <{signer.email}> a saisi {rules.CODE_MAX_FAILURES} "
            f"codes erronés pour le contrat {number} ; son lien de signature est bloqué.\n"
            "Vérifiez avec cette personne puis envoyez-lui un nouveau lien.\n\n-- \nParaphe\n"
        ),
    )


def sender_email(session: Session, request: SignatureRequest, fallback: str) -> str:
    """Who sent the request (the sales user), else the vendor's contact address."""
    user = session.get(User, request.created_by_id) if request.created_by_id else None
    return user.email if user is not None else fallback


def read_revision(
    session: Session, store: BlobStore, request: SignatureRequest, *, actor: str, now: datetime
) -> bytes:
    """The request's current revision (the PDF being signed), verified against its SHA-256.

    The only way the workflow reads a revision: a blob missing or no longer matching its name
    is journaled (`signature.revision_integrity_failed`, subject the request) and refused with
    `RevisionIntegrityFailed` (503). The caller commits the journal entry before it answers."""
    sha256 = request.current_sha256
    assert sha256 is not None
    try:
        return store.get(sha256)
    except (BlobCorrupted, BlobNotFound) as exc:
        details = {"sha256": sha256, "problem": "missing"}
        if isinstance(exc, BlobCorrupted):
            details = {"sha256": sha256, "problem": "mismatch", "actual_sha256": exc.actual}
        audit.record(
            session,
            now=now,
            actor=actor,
            action="signature.revision_integrity_failed",
            subject_type="signature_request",
            subject_id=request.id,
            client_id=request.contract_version.contract.client_id,
            details=details,
        )
        what = (
            "est introuvable dans le stockage"
            if isinstance(exc, BlobNotFound)
            else "ne correspond plus à son empreinte"
        )
        raise RevisionIntegrityFailed(
            f"Le document en cours de signature (demande n° {request.id}) {what} (SHA-256 "
            f"attendu {sha256}) : il est endommagé et ne peut être ni signé ni scellé. "
            "L'incident est journalisé ; l'équipe de l'éditeur doit le restaurer depuis une "
            "sauvegarde."
        ) from exc


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
        SignSpec(
            field_name=prepared.field_name,
            signer_name=prepared.signer_name,
            signed_at=now.astimezone(PARIS),
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


def _lock_request(session: Session, request_id: int) -> SignatureRequest:
    request = session.scalar(
        select(SignatureRequest)
        .where(SignatureRequest.id == request_id)
        .with_for_update(of=SignatureRequest)
    )
    assert request is not None
    return request


def _advance(session: Session, request: SignatureRequest, old: str, new: str) -> None:
    """Move the latest revision from `old` to `new`, or raise StaleRevision if it moved."""
    result = session.execute(
        update(SignatureRequest)
        .where(SignatureRequest.id == request.id, SignatureRequest.current_sha256 == old)
        .values(current_sha256=new)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise StaleRevision("Le document a reçu une autre signature entre-temps.")
    request.current_sha256 = new


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
    request = _lock_request(session, prepared.request_id)
    signer = find_signer(session, token, now, for_update=True, allow_signed=True)
    if signer.status is SignerStatus.SIGNED or signer.id != prepared.signer_id:
        raise SigningLinkGone("Ce document a déjà été signé avec ce lien.")
    if request.status not in ACTIVE:
        raise SigningLinkGone("Cette demande de signature n'est plus active.")
    if request.current_sha256 != prepared.base_sha256:
        raise StaleRevision("Le document a reçu une autre signature entre-temps.")
    ref = store.put(signed_pdf)  # blob first: a crash now leaves an orphan blob, nothing else
    _advance(session, request, prepared.base_sha256, ref.sha256)
    version = request.contract_version
    contract = version.contract
    signer.status = SignerStatus.SIGNED
    signer.signed_at = now
    signer.ip = ip
    signer.user_agent = (user_agent or "")[:500] or None
    signer.consent_text = prepared.consent_text
    if rules.consents_to_cgv(signer.party):
        cgv = version.cgv_version
        record_acceptance(
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
    completed = current_group(request) is None
    invitations: list[Invitation] = []
    if completed:
        request.status = RequestStatus.COMPLETED
        request.completed_at = now
    else:
        request.status = RequestStatus.PARTIALLY_SIGNED
        invitations = notify_next_group(session, request, now=now, link_days=link_days)
    return SignOutcome(signer=signer, invitations=invitations, completed=completed)


# --- the platform seal ----------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedSeal:
    request_id: int
    base_sha256: str
    pdf: bytes


def prepare_seal(
    session: Session, store: BlobStore, request_id: int, *, now: datetime
) -> PreparedSeal | None:
    """The document to seal, or None when there is nothing to do (not completed, or sealed).

    A damaged or missing revision raises `RevisionIntegrityFailed` (journaled, see
    `read_revision`)."""
    request = session.get(SignatureRequest, request_id)
    if request is None or request.status is not RequestStatus.COMPLETED:
        return None
    if request.signed_document_id is not None or request.current_sha256 is None:
        return None
    pdf = read_revision(session, store, request, actor="system", now=now)
    return PreparedSeal(request.id, request.current_sha256, pdf)


def apply_seal(
    prepared: PreparedSeal,
    key: SigningKey,
    *,
    now: datetime,
    sealer: str,
    trust: TrustServices | None = None,
) -> bytes:
    """The platform seal in the invisible seal field. Pure cryptography, no session.

    With ``trust``: PAdES B-LTA (validation data of every earlier signature, timestamped
    seal, document timestamp last); TimestampError / ValidationDataError when the TSA or the
    revocation data is unavailable, and nothing is written. Without: B-B."""
    spec = SignSpec(
        field_name=SEAL_FIELD,
        signer_name=sealer,
        signed_at=now.astimezone(PARIS),
        reason="Cachet de la plateforme : toutes les signatures sont recueillies",
        location="Paraphe",
    )
    if trust is not None:
        return seal_pdf(prepared.pdf, key, spec, trust)
    return sign_pdf(prepared.pdf, key, spec)


@dataclass(frozen=True)
class Completion:
    """A sealed request and the download links to mail (tokens exist only here and in mail)."""

    request: SignatureRequest
    document: Document
    downloads: list[Invitation]


def record_seal(
    session: Session,
    store: BlobStore,
    prepared: PreparedSeal,
    sealed_pdf: bytes,
    *,
    now: datetime,
    link_days: int,
) -> Completion | None:
    """Archive the sealed PDF (kind signed_contract) and close the request, all in the
    caller's transaction; None if another process sealed it first."""
    request = _lock_request(session, prepared.request_id)
    if request.signed_document_id is not None or request.current_sha256 != prepared.base_sha256:
        return None
    version = request.contract_version
    contract = version.contract
    document = deposit(
        session,
        store,
        kind=DocumentKind.SIGNED_CONTRACT,
        client_id=contract.client_id,
        reference=contract.number,
        version=version.version,
        data=sealed_pdf,
        media_type="application/pdf",
        filename=f"{contract.number}-v{version.version}-signe.pdf",
        now=now,
        actor="system",
    )
    _advance(session, request, prepared.base_sha256, document.sha256)
    request.signed_document_id = document.id
    request.signed_document = document
    request.sealed_at = now
    request.seal_error = None
    version.status = VersionStatus.SIGNED
    downloads: list[Invitation] = []
    for signer in request.signers:
        token = new_link_token()
        signer.download_token_hash = token_hash(token)
        downloads.append(Invitation(signer=signer, token=token))
    audit.record(
        session,
        now=now,
        actor="system",
        action="signature.sealed",
        subject_type="signature_request",
        subject_id=request.id,
        client_id=contract.client_id,
        details={
            "contract": contract.number,
            "version": version.version,
            "document_sha256_before": prepared.base_sha256,
            "document_sha256_after": document.sha256,
        },
    )
    return Completion(request=request, document=document, downloads=downloads)


def record_seal_failure(session: Session, request_id: int, error: str) -> None:
    request = _lock_request(session, request_id)
    request.seal_attempts += 1
    request.seal_error = error[:2000]


def completion_mails(completion: Completion, base_url: str) -> list[OutgoingMail]:
    version = completion.request.contract_version
    number = version.contract.number
    mails = []
    for download in completion.downloads:
        link = f"{base_url}/signature/document/{download.token}"
        mails.append(
            OutgoingMail(
                to=download.signer.email,
                subject=f"Contrat {number} signé par toutes les parties",
                text=(
                    f"Bonjour {download.signer.name},\n\n"
                    f"Le contrat {number} (version {version.version}) est signé par toutes les "
                    "parties et scellé par la plateforme.\n\n"
                    f"Téléchargez le document signé :\n{link}\n\n"
                    f"Empreinte SHA-256 : {completion.document.sha256}\n\n-- \nParaphe\n"
                ),
            )
        )
    return mails


# --- decline, cancel, resend, reminders, expiry ----------------------------------------------

CLOSED_LABELS = {
    RequestStatus.DECLINED: "refusée",
    RequestStatus.CANCELLED: "annulée",
    RequestStatus.EXPIRED: "expirée",
}


def _close(
    session: Session,
    request: SignatureRequest,
    status: RequestStatus,
    *,
    now: datetime,
    actor: str,
    reason: str,
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
    audit.record(
        session,
        now=now,
        actor=actor,
        action=f"signature.{status.value}",
        subject_type="signature_request",
        subject_id=request.id,
        client_id=version.contract.client_id,
        details={"reason": reason},
    )
    number = version.contract.number
    label = CLOSED_LABELS[status]
    recipients = [s.email for s in request.signers if s.notified_at is not None]
    creator = session.get(User, request.created_by_id) if request.created_by_id else None
    if creator is not None and creator.email not in recipients:
        recipients.append(creator.email)
    return [
        OutgoingMail(
            to=to,
            subject=f"Contrat {number} : demande de signature {label}",
            text=(
                f"Bonjour,\n\nLa demande de signature du contrat {number} "
                f"(version {version.version}) est {label}.\nMotif : {reason}\n\n"
                "Les liens de signature envoyés pour cette demande ne sont plus valables."
                "\n\n-- \nParaphe\n"
            ),
        )
        for to in recipients
    ]


def decline(
    session: Session, token: str, reason: str, *, now: datetime, ip: str | None
) -> list[OutgoingMail]:
    reason = reason.strip()
    if not reason:
        raise FieldErrors({"reason": "Indiquez le motif du refus."})
    if len(reason) > 2000:
        raise FieldErrors({"reason": "2 000 caractères au plus."})
    if problem := text_problem(reason, multiline=True):
        raise FieldErrors({"reason": problem})  # a NUL was a 500 on PostgreSQL
    signer = find_signer(session, token, now)
    request = _lock_request(session, signer.request_id)
    if request.status not in ACTIVE or signer.status not in WAITING:
        raise NotYourTurn("Ce n'est pas à vous de répondre à cette demande.")
    signer.status = SignerStatus.DECLINED
    signer.declined_at = now
    signer.ip = ip
    return _close(
        session,
        request,
        RequestStatus.DECLINED,
        now=now,
        actor=f"signer:{signer.id}",
        reason=f"refus de {signer.name} : {reason}",
    )


def get_request(session: Session, request_id: int) -> SignatureRequest:
    request = session.get(SignatureRequest, request_id)
    if request is None:
        raise RequestNotFound(f"Demande de signature n° {request_id} introuvable.")
    return request


def cancel(
    session: Session, request_id: int, reason: str, *, now: datetime, actor: str
) -> list[OutgoingMail]:
    if problem := text_problem(reason, multiline=True):
        raise FieldErrors({"reason": problem})
    request = _lock_request_or_404(session, request_id)
    if request.status not in ACTIVE:
        raise SignatureRefused("Seule une demande en cours peut être annulée.")
    return _close(
        session,
        request,
        RequestStatus.CANCELLED,
        now=now,
        actor=actor,
        reason=reason.strip()[:2000] or "annulée par l'expéditeur",
    )


def _lock_request_or_404(session: Session, request_id: int) -> SignatureRequest:
    get_request(session, request_id)
    return _lock_request(session, request_id)


def resend(
    session: Session, request_id: int, *, now: datetime, actor: str, link_days: int
) -> list[Invitation]:
    """New links for the signers awaited now (the old links stop working; a signer locked out
    by wrong codes gets a fresh start). The request's deadline is pushed back too."""
    request = _lock_request_or_404(session, request_id)
    if request.status not in ACTIVE:
        raise SignatureRefused("Seule une demande en cours peut être renvoyée.")
    request.expires_at = now + timedelta(days=link_days)
    group = current_group(request)
    for signer in request.signers:
        if signer.group == group and signer.status in WAITING:
            signer.status = SignerStatus.PENDING
            signer.otp_failures = 0
            signer.otp_locked_at = None
            signer.otp_hash = None
            signer.reminders_sent = 0
    audit.record(
        session,
        now=now,
        actor=actor,
        action="signature.resent",
        subject_type="signature_request",
        subject_id=request.id,
        client_id=request.contract_version.contract.client_id,
        details={"group": group},
    )
    return notify_next_group(session, request, now=now, link_days=link_days)


def _new_link(session: Session, signer: Signer, *, now: datetime, reason: LinkReplacement) -> str:
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


REMINDER_QUIET = timedelta(hours=12)
"""A signer who opened the link, asked for a code or entered one this recently is signing:
a reminder now would replace the link in their hands, so it waits for a later run."""


def due_reminders(
    session: Session, *, now: datetime, schedule: tuple[int, ...]
) -> list[Invitation]:
    """Signers invited `schedule[k]` days ago who have not signed get reminder k+1, with a
    new link that replaces the earlier one (see _new_link); its expiry stays the same. A
    signer active within ``REMINDER_QUIET`` is reminded on a later run."""
    reminders: list[Invitation] = []
    signers = session.scalars(
        select(Signer)
        .join(SignatureRequest)
        .where(
            SignatureRequest.status.in_(ACTIVE),
            Signer.status.in_(WAITING),
            Signer.otp_locked_at.is_(None),
        )
        .order_by(Signer.id)
        .with_for_update(of=Signer)
    ).all()
    for signer in signers:
        if signer.reminders_sent >= len(schedule) or signer.notified_at is None:
            continue
        if now < signer.notified_at + timedelta(days=schedule[signer.reminders_sent]):
            continue
        activity = [t for t in (signer.opened_at, signer.otp_sent_at, signer.authenticated_at) if t]
        if activity and now - max(activity) < REMINDER_QUIET:
            continue
        token = _new_link(session, signer, now=now, reason=LinkReplacement.REMINDER)
        signer.reminders_sent += 1
        audit.record(
            session,
            now=now,
            actor="system",
            action="signature.reminded",
            subject_type="signer",
            subject_id=signer.id,
            client_id=signer.request.contract_version.contract.client_id,
            details={"reminder": signer.reminders_sent},
        )
        reminders.append(Invitation(signer=signer, token=token))
    return reminders


def reminder_mail(invitation: Invitation, base_url: str) -> OutgoingMail:
    mail = invitation_mail(invitation, invitation.signer.request.contract_version, base_url)
    return OutgoingMail(
        to=mail.to,
        subject="Rappel : " + mail.subject,
        text=mail.text.replace(
            "Pour lire et signer",
            "Ceci est un rappel ; ce lien remplace celui reçu précédemment.\n\nPour lire et signer",
            1,
        ),
    )


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
    mails: list[OutgoingMail] = []
    for request_id in ids:
        request = _lock_request(session, request_id)
        mails += _close(
            session,
            request,
            RequestStatus.EXPIRED,
            now=now,
            actor="system",
            reason="délai de signature dépassé",
        )
    return ids, mails


def stuck_requests(session: Session) -> list[SignatureRequest]:
    """Completed requests whose seal has not been archived (a crash, a TSA down...)."""
    return list(
        session.scalars(
            select(SignatureRequest)
            .where(
                SignatureRequest.status == RequestStatus.COMPLETED,
                SignatureRequest.signed_document_id.is_(None),
            )
            .order_by(SignatureRequest.id)
        ).unique()
    )


def signed_document_for(session: Session, token: str, now: datetime) -> Document:
    signer = find_signer(session, token, now, allow_signed=True)
    document = signer.request.signed_document
    if signer.status is not SignerStatus.SIGNED or document is None:
        raise SignatureRefused("Le document n'est pas encore signé par toutes les parties.")
    if signer.token_expires_at is not None and signer.token_expires_at <= now:
        raise SigningLinkGone("Ce lien a expiré ; demandez le document signé à votre contact.")
    return document


def document_for_download_token(session: Session, token: str) -> Document:
    signer = session.scalar(select(Signer).where(Signer.download_token_hash == token_hash(token)))
    if signer is None or signer.request.signed_document is None:
        raise SigningLinkUnknown("Ce lien de téléchargement n'existe pas.")
    return signer.request.signed_document


def requests_for_version(session: Session, version_id: int) -> list[SignatureRequest]:
    return list(
        session.scalars(
            select(SignatureRequest)
            .where(SignatureRequest.contract_version_id == version_id)
            .order_by(SignatureRequest.id)
        ).unique()
    )


# --- verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    sha256: str
    report: VerificationReport
    archived: Document | None


def verify_bytes(
    session: Session, data: bytes, *, trust_roots: list[bytes], now: datetime
) -> Verification:
    """Verify a PDF's signatures; say whether these exact bytes are in the archive.
    Raises NotAPdf for anything that is not a readable PDF."""
    if not data.startswith(b"%PDF-"):
        raise NotAPdf("Ce fichier n'est pas un PDF.")
    try:
        report = verify_pdf(data, trust_roots, validation_time=now)
    except InvalidPdfError as exc:
        raise NotAPdf("Ce PDF est illisible ou endommagé.") from exc
    sha = hashlib.sha256(data).hexdigest()
    archived = session.scalar(select(Document).where(Document.sha256 == sha).limit(1))
    return Verification(sha256=sha, report=report, archived=archived)


def verify_document(
    session: Session,
    store: BlobStore,
    document_id: int,
    *,
    trust_roots: list[bytes],
    now: datetime,
    actor: str,
) -> Verification:
    """Verify an archived PDF's signatures; its bytes are read through the archive's integrity
    check (`DocumentIntegrityFailed`, journaled, when the blob is damaged or missing)."""
    document = get_document(session, document_id)
    if document.media_type != "application/pdf":
        raise ArchivedNotAPdf(f"Le document n° {document_id} n'est pas un PDF.")
    data = read_content(session, store, document, actor=actor, now=now)
    try:
        return verify_bytes(session, data, trust_roots=trust_roots, now=now)
    except NotAPdf as exc:  # an archived document: its state, not the request, is the problem
        raise ArchivedNotAPdf(f"Le document n° {document_id} n'est pas un PDF lisible.") from exc


# --- evidence file (dossier de preuve) ------------------------------------------------------

EVIDENCE_FIELD = "cachet-preuve"
AUTH_METHOD = "lien personnel à usage unique + code à 6 chiffres envoyé par e-mail"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def evidence_data(session: Session, request_id: int) -> dict[str, Any] | None:
    """Everything the evidence file states, as plain JSON data; None when the request is not
    sealed yet or already has its evidence."""
    request = session.get(SignatureRequest, request_id)
    if request is None or request.signed_document is None or request.evidence_document_id:
        return None
    version = request.contract_version
    cgv = version.cgv_version
    signer_ids = [str(s.id) for s in request.signers]
    events = session.scalars(
        select(AuditEvent)
        .where(
            or_(
                and_(
                    AuditEvent.subject_type == "signature_request",
                    AuditEvent.subject_id == str(request.id),
                ),
                and_(AuditEvent.subject_type == "signer", AuditEvent.subject_id.in_(signer_ids)),
            )
        )
        .order_by(AuditEvent.id)
    ).all()
    signed_events = {
        e.subject_id: json.loads(e.details) for e in events if e.action == "signature.signed"
    }
    requested = next((e for e in events if e.action == "signature.requested"), None)
    prepared = json.loads(requested.details).get("prepared_sha256") if requested else None
    # The CGV acceptances this request recorded (client signers only), by signer email.
    accepted = {
        a.person_email: a
        for a in session.scalars(
            select(CgvAcceptance).where(CgvAcceptance.signature_request_id == request.id)
        )
    }
    return {
        "format": "paraphe-evidence/1",
        "contract": {"number": version.contract.number, "version": version.version},
        "client": {
            "legal_name": version.contract.client.legal_name,
            "siren": version.contract.client.siren,
        },
        "request": {
            "id": request.id,
            "status": request.status.value,
            "created_at": _iso(request.created_at),
            "completed_at": _iso(request.completed_at),
            "sealed_at": _iso(request.sealed_at),
        },
        "documents": {
            "original_sha256": version.document.sha256,
            "prepared_sha256": prepared,
            "sealed_sha256": request.signed_document.sha256,
        },
        "cgv": {
            "label": cgv.label,
            "effective_date": cgv.effective_date.isoformat(),
            "sha256": cgv.sha256,
        },
        "signers": [
            {
                "position": s.position,
                "group": s.group,
                "party": s.party,
                "role": s.role,
                "name": s.name,
                "email": s.email,
                "field": s.field_name,
                "status": s.status.value,
                "authentication": {
                    "method": AUTH_METHOD,
                    "link_notified_at": _iso(s.notified_at),
                    "link_opened_at": _iso(s.opened_at),
                    "code_verified_at": _iso(s.authenticated_at),
                },
                "signed_at": _iso(s.signed_at),
                "ip": s.ip,
                "user_agent": s.user_agent,
                "consent": s.consent_text,
                # What the signer consented to: the client's signers accept the CGV and give
                # their agreement; the vendor's countersigner gives its agreement only.
                "consents": s.consent_text.splitlines() if s.consent_text else [],
                "accepted_cgv": (
                    {
                        "label": accepted[s.email].cgv_version.label,
                        "sha256": accepted[s.email].text_sha256,
                        "accepted_at": _iso(accepted[s.email].accepted_at),
                    }
                    if s.email in accepted
                    else None
                ),
                "document_sha256_before": signed_events.get(str(s.id), {}).get(
                    "document_sha256_before"
                ),
                "document_sha256_after": signed_events.get(str(s.id), {}).get(
                    "document_sha256_after"
                ),
            }
            for s in request.signers
        ],
        "events": [
            {
                "at": _iso(e.at),
                "action": e.action,
                "actor": e.actor,
                "subject": f"{e.subject_type}:{e.subject_id}",
                "details": json.loads(e.details),
                "hash": e.hash,
            }
            for e in events
        ],
    }


def apply_evidence_seal(
    pdf: bytes,
    key: SigningKey,
    *,
    now: datetime,
    sealer: str,
    trust: TrustServices | None = None,
) -> bytes:
    """The platform seal on the evidence file, at the same level as the contract's seal.

    With ``trust`` (a TSA is configured): PAdES B-LTA through the same trust services as the
    contract (timestamped seal, its validation data in the DSS, document timestamp last), so
    the evidence can be validated offline as long as the contract can; TimestampError /
    ValidationDataError when the TSA or revocation data is unavailable, nothing is written
    and the sweeper retries. Without: B-B, like the contract."""
    spec = SignSpec(
        field_name=EVIDENCE_FIELD,
        signer_name=sealer,
        signed_at=now.astimezone(PARIS),
        reason="Cachet de la plateforme sur le dossier de preuve",
        location="Paraphe",
        existing_fields_only=False,
    )
    if trust is not None:
        return seal_pdf(pdf, key, spec, trust)
    return sign_pdf(pdf, key, spec)


def record_evidence(
    session: Session,
    store: BlobStore,
    request_id: int,
    *,
    json_bytes: bytes,
    pdf: bytes,
    now: datetime,
) -> Document | None:
    request = _lock_request(session, request_id)
    if request.evidence_document_id is not None:
        return None
    version = request.contract_version
    contract = version.contract
    common: dict[str, Any] = {
        "kind": DocumentKind.EVIDENCE,
        "client_id": contract.client_id,
        "version": version.version,
        "now": now,
        "actor": "system",
    }
    as_json = deposit(
        session,
        store,
        reference=f"{contract.number}-preuve-json",
        data=json_bytes,
        media_type="application/json",
        filename=f"{contract.number}-v{version.version}-preuve.json",
        **common,
    )
    as_pdf = deposit(
        session,
        store,
        reference=f"{contract.number}-preuve",
        data=pdf,
        media_type="application/pdf",
        filename=f"{contract.number}-v{version.version}-preuve.pdf",
        **common,
    )
    request.evidence_json_id = as_json.id
    request.evidence_document_id = as_pdf.id
    request.evidence_document = as_pdf
    audit.record(
        session,
        now=now,
        actor="system",
        action="signature.evidence",
        subject_type="signature_request",
        subject_id=request.id,
        client_id=contract.client_id,
        details={"pdf_sha256": as_pdf.sha256, "json_sha256": as_json.sha256},
    )
    return as_pdf


def missing_evidence(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(SignatureRequest.id).where(
                SignatureRequest.signed_document_id.is_not(None),
                SignatureRequest.evidence_document_id.is_(None),
            )
        )
    )


def evidence_file(session: Session, request_id: int, *, as_json: bool) -> Document:
    request = get_request(session, request_id)
    document_id = request.evidence_json_id if as_json else request.evidence_document_id
    document = session.get(Document, document_id) if document_id is not None else None
    if document is None:
        raise RequestNotFound("Le dossier de preuve de cette demande n'est pas encore prêt.")
    return document
