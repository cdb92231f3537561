"""The deletion certificate of a purge: which clients need one, issuing it (the PDF archived,
the purged documents it lists linked to it), and recording it sent.

Works in the caller's transaction and never commits (see `app.archive.purge`); the PDF itself
is drawn by `app.archive.certificate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from app.archive.anonymisation import anonymisation_due, anonymise_client
from app.audit import services as audit
from app.audit.models import AuditEvent
from app.clients.models import Client
from app.documents.models import Document, DocumentKind
from app.documents.services import deposit, journal_document
from app.retention_settings import RetentionPolicy
from storage import BlobStore

SENT_ACTION = "deletion_certificate.sent"


def uncertified(session: Session, client_id: int) -> Sequence[Document]:
    """Purged documents of the client that no deletion certificate lists yet."""
    return session.scalars(
        select(Document)
        .where(
            Document.client_id == client_id,
            Document.purged_at.is_not(None),
            Document.purge_certificate_id.is_(None),
        )
        .order_by(Document.id)
    ).all()


def unsent_certificates(session: Session) -> Sequence[Document]:
    """Certificates issued whose email has not been recorded as sent (a crash in between)."""
    sent = select(AuditEvent.subject_id).where(AuditEvent.action == SENT_ACTION)
    return session.scalars(
        select(Document)
        .where(
            Document.kind == DocumentKind.DELETION_CERTIFICATE,
            Document.purged_at.is_(None),
            cast(Document.id, String(40)).not_in(sent),
        )
        .order_by(Document.id)
    ).all()


def clients_to_certify(session: Session, policy: RetentionPolicy, today: date) -> list[int]:
    """Clients with purged documents not yet certified, or whose contact data is due for
    anonymisation and not already announced by a certificate waiting to be sent."""
    ids = set(
        session.scalars(
            select(Document.client_id).where(
                Document.client_id.is_not(None),
                Document.purged_at.is_not(None),
                Document.purge_certificate_id.is_(None),
            )
        ).all()
    )
    waiting = {c.client_id for c in unsent_certificates(session)}
    for client in session.scalars(
        select(Client).where(Client.terminated_on.is_not(None), Client.anonymised_at.is_(None))
    ):
        if anonymisation_due(client, policy, today) and client.id not in waiting:
            ids.add(client.id)
    return sorted(i for i in ids if i is not None)


def next_certificate_reference(session: Session, client_id: int) -> str:
    count = session.scalar(
        select(func.count())
        .select_from(Document)
        .where(Document.client_id == client_id, Document.kind == DocumentKind.DELETION_CERTIFICATE)
    )
    return f"SUP-{client_id:06d}-{(count or 0) + 1:02d}"


def issue_certificate(
    session: Session,
    store: BlobStore,
    client: Client,
    *,
    certified: Sequence[int],
    reference: str,
    pdf: bytes,
    policy: RetentionPolicy,
    now: datetime,
    actor: str,
) -> Document:
    """Archive the certificate PDF and link the purged documents it lists to it."""
    certificate = deposit(
        session,
        store,
        kind=DocumentKind.DELETION_CERTIFICATE,
        client_id=client.id,
        reference=reference,
        version=1,
        data=pdf,
        media_type="application/pdf",
        filename=f"{reference}.pdf",
        now=now,
        actor=actor,
        retention=policy,
    )
    for document in session.scalars(select(Document).where(Document.id.in_(certified))):
        document.purge_certificate_id = certificate.id
    audit.record_about_client(
        session,
        client.id,
        now=now,
        actor=actor,
        action="client.deletion_certificate_issued",
        details={
            "certificate_id": certificate.id,
            "reference": reference,
            "sha256": certificate.sha256,
            "documents": list(certified),
        },
    )
    return certificate


def record_sent(
    session: Session,
    certificate: Document,
    *,
    policy: RetentionPolicy,
    today: date,
    now: datetime,
    actor: str,
) -> None:
    """After the email went out: journal it and anonymise the contact if due (the address was
    needed until now)."""
    journal_document(
        session,
        certificate,
        SENT_ACTION,
        now=now,
        actor=actor,
        details={"reference": certificate.reference},
    )
    client = session.get(Client, certificate.client_id) if certificate.client_id else None
    if client is not None and anonymisation_due(client, policy, today):
        anonymise_client(session, client, now=now, actor=actor)
