"""Retention of a client's documents: termination dates their end of retention, a legal
hold suspends it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import services as audit
from app.clients import services as clients
from app.clients.models import Client
from app.clock import business_date
from app.documents import retention as rules
from app.documents.errors import DocumentPurged
from app.documents.models import Document
from app.documents.services import iso_day, journal_document, lock_blob, shares_bytes
from app.messages import msg
from app.retention_settings import RetentionPolicy
from storage import BlobStore


def apply_retention(
    session: Session,
    store: BlobStore,
    client: Client,
    *,
    policy: RetentionPolicy,
    now: datetime,
    actor: str,
) -> list[Document]:
    """(Re)compute the retention end of every live document of `client` from its kind, its
    date and the client's termination date; journal each change and lock the blob until then
    (a lock only grows: an earlier end leaves the blob locked until the former one, and the
    purge reports it kept). Returns the changed ones."""
    changed: list[Document] = []
    for document in documents_of_client(session, client.id):
        until = rules.retention_until(
            document.kind,
            created_on=business_date(document.created_at),
            terminated_on=client.terminated_on,
            policy=policy,
        )
        basis = rules.retention_basis(document.kind, policy)
        if until == document.retention_until and basis == document.retention_basis:
            continue
        audit.record(
            session,
            now=now,
            actor=actor,
            action="document.retention_set",
            subject_type="document",
            subject_id=document.id,
            client_id=client.id,
            details={
                "retention_until": iso_day(until),
                "previous": iso_day(document.retention_until),
                "basis": basis,
            },
        )
        document.retention_until = until
        document.retention_basis = basis
        lock_blob(store, document)
        changed.append(document)
    return changed


def terminate_client(
    session: Session,
    store: BlobStore,
    client: Client,
    *,
    on: date,
    reason: str,
    policy: RetentionPolicy,
    actor: str,
    now: datetime,
) -> Client:
    """Record the termination, then date the end of retention of the client's documents."""
    clients.terminate(session, client, on=on, reason=reason, actor=actor, now=now)
    apply_retention(session, store, client, policy=policy, now=now, actor=actor)
    return client


def set_legal_hold(
    session: Session,
    store: BlobStore,
    document: Document,
    *,
    hold: bool,
    reason: str,
    actor: str,
    now: datetime,
) -> Document:
    """Place or lift a legal hold: while held, a document is never purged, and the store
    refuses to delete its bytes. Blobs are shared by content: the store's hold is released
    only when no other live document with the same bytes is held."""
    if document.purged_at is not None:
        raise DocumentPurged(
            msg(
                "Le document n° {document_id} a été supprimé le {purged_on} (fin de conservation).",
                document_id=document.id,
                purged_on=business_date(document.purged_at).isoformat(),
            )
        )
    document.legal_hold = hold
    document.legal_hold_reason = (reason.strip() or None) if hold else None
    still_held = shares_bytes(session, document, held_only=True)
    if hold or not still_held:
        store.hold(document.sha256, hold)
    journal_document(
        session,
        document,
        "document.legal_hold_set" if hold else "document.legal_hold_lifted",
        now=now,
        actor=actor,
        details={"reason": reason.strip()} if hold else {},
    )
    return document


def documents_of_client(session: Session, client_id: int) -> Sequence[Document]:
    """The client's documents whose bytes are still archived (not purged), oldest first."""
    return session.scalars(
        select(Document)
        .where(Document.client_id == client_id, Document.purged_at.is_(None))
        .order_by(Document.id)
    ).all()
