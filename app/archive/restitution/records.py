"""The restitutions archived for a client: the latest one, the one still current for the
client's data, and the record of a new one (document row and journal entry)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.archive.errors import RestitutionNotBuilt
from app.archive.restitution.assembly import RestitutionResult
from app.archive.restitution.contents import ClientState, journal_changed_since
from app.audit import services as audit
from app.audit.models import AuditEvent
from app.clients.services import get_client
from app.clock import PARIS
from app.documents.models import Document, DocumentKind
from app.documents.services import record_deposit
from app.messages import msg
from app.retention_settings import RetentionPolicy
from storage import BlobRef

RESTITUTION_ACTION = "client.restitution"


def latest_restitution(session: Session, client_id: int) -> Document | None:
    """The client's most recent restitution archive still archived, if any."""
    return session.scalar(
        select(Document)
        .where(
            Document.client_id == client_id,
            Document.kind == DocumentKind.RESTITUTION,
            Document.purged_at.is_(None),
        )
        .order_by(Document.id.desc())
        .limit(1)
    )


def archived_restitution(session: Session, client_id: int) -> Document:
    """The client's latest restitution archive, or `RestitutionNotBuilt` saying how to ask
    for one (reading never builds: building writes, seals and archives). `ClientNotFound`
    for an unknown client."""
    get_client(session, client_id)
    document = latest_restitution(session, client_id)
    if document is None:
        raise RestitutionNotBuilt(
            msg(
                "Le client n° {client_id} n'a pas encore d'archive de restitution. Pour la "
                "produire, envoyez une requête POST à /api/v1/clients/{client_id}/restitution ; "
                "elle sera ensuite disponible ici.",
                client_id=client_id,
            )
        )
    return document


@dataclass(frozen=True)
class RestitutionRecord:
    """An archived restitution, with what its journal entry says of its content."""

    document: Document
    files: int
    manifest_sha256: str


def current_restitution(
    session: Session, client_id: int, state: ClientState
) -> RestitutionRecord | None:
    """The latest restitution if it was built from the client's data as it is now (its
    journal entry carries the digest of `state`, and nothing but restitution bookkeeping
    was journaled for the client since) and is still archived; None otherwise."""
    details = session.scalar(
        select(AuditEvent.details)
        .where(AuditEvent.client_id == client_id, AuditEvent.action == RESTITUTION_ACTION)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    if details is None:
        return None
    recorded = json.loads(details)
    if recorded.get("state") != state.digest:
        return None
    document = session.get(Document, recorded["document_id"])
    if document is None or document.purged_at is not None:
        return None
    if journal_changed_since(session, client_id, recorded["as_of"], document.id):
        return None
    return RestitutionRecord(document, recorded["files"], recorded["manifest_sha256"])


def record_restitution(
    session: Session,
    ref: BlobRef,
    client_id: int,
    result: RestitutionResult,
    *,
    state: ClientState,
    now: datetime,
    actor: str,
    retention: RetentionPolicy,
) -> RestitutionRecord:
    """Archive the written archive (already in the store) as a document of kind restitution
    and journal its hash, with the fingerprint of the data it was built from."""
    count = session.scalar(
        select(func.count())
        .select_from(Document)
        .where(Document.client_id == client_id, Document.kind == DocumentKind.RESTITUTION)
    )
    number = (count or 0) + 1
    stamp = now.astimezone(PARIS).strftime("%Y%m%d")
    document = record_deposit(
        session,
        ref,
        kind=DocumentKind.RESTITUTION,
        client_id=client_id,
        reference=f"RST-{client_id:06d}-{number:02d}",
        version=1,
        media_type="application/zip",
        filename=f"restitution-client-{client_id}-{stamp}-{number:02d}.zip",
        now=now,
        actor=actor,
        retention=retention,
    )
    audit.record_about_client(
        session,
        client_id,
        now=now,
        actor=actor,
        action=RESTITUTION_ACTION,
        details={
            "document_id": document.id,
            "sha256": document.sha256,
            "size": document.size,
            "files": result.files,
            "manifest_sha256": result.manifest_sha256,
            "state": state.digest,
            "as_of": state.as_of,
        },
    )
    return RestitutionRecord(document, result.files, result.manifest_sha256)
