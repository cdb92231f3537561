"""A request and its current revision (the PDF being signed): find it, lock it, read it
through its integrity check, move it forward by compare-and-swap."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.contracts.models import ContractVersion
from app.db import transaction
from app.documents.models import Document
from app.messages import msg
from app.signatures.errors import (
    RequestNotFound,
    RevisionIntegrityFailed,
    StaleRevision,
)
from app.signatures.journal import journal_about_request
from app.signatures.models import (
    SignatureRequest,
)
from storage import BlobCorrupted, BlobNotFound, BlobStore

_Prepared = TypeVar("_Prepared")


def prepare_from_revision(
    session_factory: sessionmaker[Session],
    prepare: Callable[[Session], _Prepared],
    record_failure: Callable[[Session, str], None],
) -> _Prepared:
    """Run `prepare` (a signature's or the seal's, which reads the current revision) in one
    transaction. A damaged or missing revision, journaled by the read, is also recorded by
    `record_failure` (on the signer or on the request, whose page then says it is late) in
    that transaction: `RevisionIntegrityFailed` is raised only once both have committed."""
    with transaction(session_factory) as session:
        try:
            return prepare(session)
        except RevisionIntegrityFailed as exc:
            record_failure(session, exc.detail)
            failure = exc
    raise failure


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
        journal_about_request(
            session,
            request,
            "signature.revision_integrity_failed",
            now=now,
            actor=actor,
            details=details,
        )
        what = (
            msg("est introuvable dans le stockage")
            if isinstance(exc, BlobNotFound)
            else msg("ne correspond plus à son empreinte")
        )
        raise RevisionIntegrityFailed(
            msg(
                "Le document en cours de signature (demande n° {request_id}) {what} (SHA-256 "
                "attendu {sha256}) : il est endommagé et ne peut être ni signé ni scellé. "
                "L'incident est journalisé ; l'équipe de l'éditeur doit le restaurer depuis une "
                "sauvegarde.",
                request_id=request.id,
                what=what,
                sha256=sha256,
            )
        ) from exc


def lock_request(session: Session, request_id: int) -> SignatureRequest:
    request = session.scalar(
        select(SignatureRequest)
        .where(SignatureRequest.id == request_id)
        .with_for_update(of=SignatureRequest)
        # As the row is once locked: the caller may have read it before (finding the link's
        # signer), and the transaction it waited for may have closed the request.
        .execution_options(populate_existing=True)
    )
    assert request is not None
    return request


def advance(session: Session, request: SignatureRequest, old: str, new: str) -> None:
    """Move the latest revision from `old` to `new`, or raise StaleRevision if it moved."""
    result = session.execute(
        update(SignatureRequest)
        .where(SignatureRequest.id == request.id, SignatureRequest.current_sha256 == old)
        .values(current_sha256=new)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise StaleRevision(msg("Le document a reçu une autre signature entre-temps."))
    request.current_sha256 = new


def get_request(session: Session, request_id: int) -> SignatureRequest:
    request = session.get(SignatureRequest, request_id)
    if request is None:
        raise RequestNotFound(
            msg("Demande de signature n° {request_id} introuvable.", request_id=request_id)
        )
    return request


def requests_for_version(session: Session, version_id: int) -> list[SignatureRequest]:
    return list(
        session.scalars(
            select(SignatureRequest)
            .where(SignatureRequest.contract_version_id == version_id)
            .order_by(SignatureRequest.id)
        ).unique()
    )


def requests_for_contract(session: Session, contract_id: int) -> list[SignatureRequest]:
    """Every request of every version of a contract, the latest first."""
    return list(
        session.scalars(
            select(SignatureRequest)
            .join(ContractVersion, ContractVersion.id == SignatureRequest.contract_version_id)
            .where(ContractVersion.contract_id == contract_id)
            .order_by(SignatureRequest.id.desc())
        ).unique()
    )


def lock_request_or_404(session: Session, request_id: int) -> SignatureRequest:
    get_request(session, request_id)
    return lock_request(session, request_id)


def signed_document_of_version(session: Session, version_id: int) -> Document | None:
    """The signed (sealed) PDF of a contract version, once a request for it completed."""
    for request in requests_for_version(session, version_id):
        if request.signed_document is not None:
            return request.signed_document
    return None
