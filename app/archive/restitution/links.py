"""The expiring links emailed to a client's contact: one to request its restitution archive,
one to download it. The token is the credential; only its hash is stored."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.archive.errors import RestitutionLinkGone
from app.archive.models import LinkPurpose, RestitutionLink
from app.audit import services as audit
from app.documents.models import Document
from app.documents.services import journal_document
from app.messages import msg
from app.tokens import new_link_token, token_hash

LINK_DAYS = 7
"""Validity of the links emailed to a client's contact (request, download)."""


def create_link(
    session: Session,
    client_id: int,
    *,
    purpose: LinkPurpose,
    document_id: int | None,
    now: datetime,
    actor: str,
) -> tuple[RestitutionLink, str]:
    """A new expiring link for the client's contact; returns it with its token (shown once)."""
    token = new_link_token()
    link = RestitutionLink(
        client_id=client_id,
        purpose=purpose,
        token_hash=token_hash(token),
        document_id=document_id,
        created_at=now,
        expires_at=now + timedelta(days=LINK_DAYS),
    )
    session.add(link)
    session.flush()
    audit.record_about_client(
        session,
        client_id,
        now=now,
        actor=actor,
        action=f"restitution.link_{purpose.value}",
        details={"link_id": link.id, "document_id": link.document_id},
    )
    return link, token


def find_link(
    session: Session, token: str, *, purpose: LinkPurpose, now: datetime, lock: bool = False
) -> RestitutionLink:
    """The valid link of `token`; `lock`: its row locked, so that of two submissions of a
    request link one only marks it used."""
    stmt = select(RestitutionLink).where(
        RestitutionLink.token_hash == token_hash(token), RestitutionLink.purpose == purpose
    )
    link = session.scalar(stmt.with_for_update() if lock else stmt)
    if link is None:
        raise RestitutionLinkGone(msg("Ce lien n'existe pas."))
    if link.expires_at <= now:
        raise RestitutionLinkGone(
            msg("Ce lien a expiré. Demandez-en un nouveau à votre interlocuteur chez l'éditeur.")
        )
    if purpose is LinkPurpose.REQUEST and link.used_at is not None:
        raise RestitutionLinkGone(
            msg(
                "Cette demande a déjà été faite : le lien de téléchargement "
                "vous a été envoyé par courriel."
            )
        )
    return link


def archive_of_link(session: Session, link: RestitutionLink) -> Document:
    """The archive a download link points at, while it is still archived."""
    document = session.get(Document, link.document_id) if link.document_id else None
    if document is None or document.purged_at is not None:
        raise RestitutionLinkGone(msg("Cette archive n'est plus disponible."))
    return document


def download(session: Session, link: RestitutionLink, *, now: datetime, actor: str) -> Document:
    """The archive a download link points at; the download is journaled (once its content has
    passed the integrity check: see `archive.views.download`)."""
    document = archive_of_link(session, link)
    journal_document(
        session,
        document,
        "restitution.downloaded",
        now=now,
        actor=actor,
        details={"link_id": link.id},
    )
    return document
