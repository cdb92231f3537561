"""The storage scrub: every stored blob re-hashed, every reference (document, signature
revision, journal anchor) checked for its blob, every unreferenced blob reported."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from app.audit.models import AuditEvent
from app.audit.sealing import sealed_anchor_blobs
from app.contracts.models import Contract, ContractVersion
from app.documents.models import Document
from app.signatures import page_images
from app.signatures.models import SignatureRequest
from storage import BlobCorrupted, BlobNotFound, BlobStore, is_key


@dataclass
class ScrubReport:
    """What `storage scrub` found: blobs re-hashed, and every problem by kind."""

    checked: int = 0
    mismatches: list[str] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    """(what references the blob, its key) for each reference to a blob that is not stored."""
    orphans: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.mismatches or self.missing or self.orphans)


REVISION_EVENTS: dict[str, tuple[str, ...]] = {
    "signature.requested": ("prepared_sha256",),
    "signature.signed": ("document_sha256_before", "document_sha256_after"),
    "signature.sealed": ("document_sha256_before", "document_sha256_after"),
}
"""Journal events naming a revision of a signature request's PDF, and the fields that do."""


def revision_keys(
    session: Session, *, client_id: int | None = None
) -> dict[int, dict[str, list[str]]]:
    """Every revision of every signature request (of one client's contracts, if given):
    {request id: {blob key: [who names it]}}.

    A revision is the prepared (certified) PDF, the PDF after each signature, and the sealed
    one: named by the request's `current_sha256` and by its journal events (`REVISION_EVENTS`;
    `signature.signed` is about a signer and names its request in its details)."""
    revisions: dict[int, dict[str, list[str]]] = {}
    requests = select(SignatureRequest.id, SignatureRequest.current_sha256).where(
        SignatureRequest.current_sha256.is_not(None)
    )
    events = select(
        AuditEvent.id, AuditEvent.action, AuditEvent.subject_id, AuditEvent.details
    ).where(AuditEvent.action.in_(REVISION_EVENTS))
    if client_id is not None:
        requests = requests.where(
            SignatureRequest.contract_version_id.in_(
                select(ContractVersion.id)
                .join(Contract, Contract.id == ContractVersion.contract_id)
                .where(Contract.client_id == client_id)
            )
        )
        events = events.where(AuditEvent.client_id == client_id)
    for request_id, sha256 in session.execute(requests.order_by(SignatureRequest.id)):
        keys = revisions.setdefault(request_id, {})
        keys.setdefault(sha256, []).append(f"demande de signature n° {request_id}")
    for event_id, action, subject_id, details in session.execute(events.order_by(AuditEvent.id)):
        data = json.loads(details) if details else {}
        if not isinstance(data, dict):
            continue
        owner = data.get("request") if action == "signature.signed" else subject_id
        if isinstance(owner, int):
            request_id = owner
        elif isinstance(owner, str) and owner.isdigit():
            request_id = int(owner)
        else:
            continue
        for name in REVISION_EVENTS[action]:
            key = data.get(name)
            if isinstance(key, str) and is_key(key):
                keys = revisions.setdefault(request_id, {})
                keys.setdefault(key, []).append(f"journal n° {event_id} ({action})")
    return revisions


def retired_requests(session: Session) -> set[int]:
    """Signature requests whose revisions have been purged with their contract: the signed
    document is purged or, for a request that never produced one (cancelled, declined,
    expired), the version's contract document is."""
    signed = aliased(Document)
    original = aliased(Document)
    return set(
        session.scalars(
            select(SignatureRequest.id)
            .join(ContractVersion, ContractVersion.id == SignatureRequest.contract_version_id)
            .join(original, original.id == ContractVersion.document_id)
            .outerjoin(signed, signed.id == SignatureRequest.signed_document_id)
            .where(
                or_(
                    signed.purged_at.is_not(None),
                    and_(
                        SignatureRequest.signed_document_id.is_(None),
                        original.purged_at.is_not(None),
                    ),
                )
            )
        )
    )


def referenced_blobs(session: Session) -> dict[str, list[str]]:
    """Every blob key some row references, with what references it ("document n° 3"…).

    The rule (what `storage scrub` calls an orphan is a stored blob none of these name):
    - a live document row (`documents.sha256`, not purged: a purged document's blob is
      deleted on purpose, so it is not missing either);
    - a revision of a signature request (`revision_keys`): its current revision
      (`signature_requests.current_sha256`: the prepared PDF of an in-flight request, or its
      latest signed state) and every revision its journal events name. Each intermediate
      revision of a signed PDF is the evidence of one step (the certification, each
      signature, the seal): kept as long as the signed contract, never collected before.
      They are purged with it (`purge.purge_document`), after which they are no longer
      referenced (`retired_requests`);
    - a sealed anchor of the audit journal (`sealed_anchor_blobs`): written when no
      timestamp authority is configured, kept for good so that truncation stays detectable;
    - a page image of a document for the signing page (`page_images.referenced`), deleted
      with the document's purge.
    Anything else in the store is an orphan: a blob written by a transaction that did not
    commit (blob first, row second), or a file nobody accounts for."""
    refs: dict[str, list[str]] = {}
    for document_id, sha256 in session.execute(
        select(Document.id, Document.sha256)
        .where(Document.purged_at.is_(None))
        .order_by(Document.id)
    ):
        refs.setdefault(sha256, []).append(f"document n° {document_id}")
    retired = retired_requests(session)
    for request_id, keys in sorted(revision_keys(session).items()):
        if request_id in retired:
            continue
        for key, holders in keys.items():
            refs.setdefault(key, []).extend(holders)
    for key in sorted(sealed_anchor_blobs(session)):
        refs.setdefault(key, []).append("ancre scellée du journal")
    for key, holders in page_images.referenced(session).items():
        refs.setdefault(key, []).extend(holders)
    return refs


def scrub(
    store: BlobStore,
    referenced: dict[str, list[str]],
    keys: Iterable[str],
    report: ScrubReport,
) -> ScrubReport:
    """Re-hash each stored key of `keys`; sort problems into `report`. `keys` is the store's
    listing (possibly wrapped in a progress bar); references whose key is never listed are
    missing."""
    seen: set[str] = set()
    for key in keys:
        seen.add(key)
        report.checked += 1
        try:
            store.verify(key)
        except BlobCorrupted:
            report.mismatches.append(key)
        except BlobNotFound:
            # Deleted between listing and reading: counts as missing only if referenced.
            seen.discard(key)
            continue
        if key not in referenced:
            report.orphans.append(key)
    for key, holders in sorted(referenced.items()):
        if key not in seen:
            report.missing.extend((holder, key) for holder in holders)
    return report
