"""Sending a contract version for signature: its signers, the certified first revision
holding every field, and the request itself (one per version, under the version's lock)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.models import User
from app.contracts.models import ContractVersion, VersionStatus
from app.events import recording as events
from app.events.recording import Resource
from app.messages import msg
from app.rendering.geometry import signature_boxes
from app.signatures import rules
from app.signatures.errors import (
    AlreadySent,
    SignatureRefused,
)
from app.signatures.journal import journal_about_request
from app.signatures.links import Invitation, notify_next_group
from app.signatures.models import (
    RequestStatus,
    SignatureRequest,
    Signer,
    SignerStatus,
)
from app.signatures.seal import sign_spec
from signing import (
    SignatureBox,
    SignatureFieldSpec,
    SigningKey,
    TrustServices,
    certify_pdf,
)
from storage import BlobStore

CLIENT = rules.CLIENT_PARTY

VENDOR = "vendor"


@dataclass(frozen=True)
class SignerInput:
    name: str
    email: str
    role: str
    party: str
    group: int


def signers_of_version(version: ContractVersion, *, parallel: bool) -> list[SignerInput]:
    """The signers printed on the version's signature page, in the same order: the client's
    signer, then the vendor's countersigner (after the client, or at the same time). The
    client's signer is the one the version printed, not the client record's as it is now: a
    record corrected since must not have someone other than the printed person sign."""
    client = version.contract.client
    signers = [
        SignerInput(
            name=version.signer_name,
            email=version.signer_email,
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
    return [*specs, SignatureFieldSpec(name=rules.SEAL_FIELD, box=None)]


def ensure_sendable(version: ContractVersion) -> None:
    if version.status in (VersionStatus.SENT, VersionStatus.SIGNED):
        state = (
            msg("envoyée pour signature") if version.status is VersionStatus.SENT else msg("signée")
        )
        raise AlreadySent(
            msg(
                "La version {version_version} du contrat {version_contract_number} est déjà "
                "{state} : voici sa demande de signature, rien n'a été renvoyé.",
                version_version=version.version,
                version_contract_number=version.contract.number,
                state=state,
            )
        )
    if version.status is not VersionStatus.GENERATED:
        raise SignatureRefused(
            msg(
                "La version {version_version} du contrat {version_contract_number} a déjà été "
                "envoyée ou signée.",
                version_version=version.version,
                version_contract_number=version.contract.number,
            )
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
        sign_spec(
            rules.CERTIFICATION_FIELD,
            certifier,
            now=now,
            reason="Certification : seules les signatures prévues peuvent être ajoutées",
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
    reminder_every_days: int | None = None,
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
        raise SignatureRefused(msg("Le document certifié n'est pas celui de cette version."))
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
        reminder_every_days=reminder_every_days,
    )
    try:
        with session.begin_nested():
            session.add(request)
    except IntegrityError as exc:
        raise AlreadySent(
            msg(
                "La version {version_version} du contrat {version_contract_number} a déjà une "
                "demande de signature en cours : rien n'a été renvoyé.",
                version_version=version.version,
                version_contract_number=version.contract.number,
            )
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
    journal_about_request(
        session,
        request,
        "signature.requested",
        now=now,
        actor=actor,
        details={
            "contract": version.contract.number,
            "version": version.version,
            "signers": [s.email for s in request.signers],
            "groups": [s.group for s in request.signers],
            "prepared_sha256": ref.sha256,
            "reminder_every_days": reminder_every_days,
        },
    )
    events.record(
        session,
        "signature_request.sent",
        Resource("signature_request", request.id),
        {
            "status": request.status.value,
            "contract": {"number": version.contract.number, "version": version.version},
            "client_id": version.contract.client_id,
            "signers": [{"id": s.id, "name": s.name, "group": s.group} for s in request.signers],
        },
        now=now,
    )
    return request, notify_next_group(session, request, now=now, link_days=link_days)


def sender_email(session: Session, request: SignatureRequest, fallback: str) -> str:
    """Who sent the request (the sales user), else the vendor's contact address."""
    user = session.get(User, request.created_by_id) if request.created_by_id else None
    return user.email if user is not None else fallback
