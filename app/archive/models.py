from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.enums import enum_column


class LinkPurpose(StrEnum):
    REQUEST = "request"  # lets the client's contact ask for its restitution archive
    DOWNLOAD = "download"  # lets it download one archive


class RestitutionLink(Base):
    """An expiring link emailed to a client's contact; the token is stored hashed."""

    __tablename__ = "restitution_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    purpose: Mapped[LinkPurpose] = mapped_column(enum_column(LinkPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RestitutionStatus(StrEnum):
    PENDING = "pending"  # asked, the job builds it
    READY = "ready"  # archived; the download link emailed to the client's contact
    FAILED = "failed"  # a damaged document stopped it (journaled); ask again once restored


class RestitutionRequest(Base):
    """One request for a client's restitution archive, built by the job
    `archive.build_restitution`: what the API's status resource and the contact's page read.
    Of two requests for the same client while one is pending, the second is the first (a
    double click, a retried POST): the partial unique index holds it."""

    __tablename__ = "restitution_requests"
    __table_args__ = (
        Index(
            "uq_restitution_requests_pending_client",
            "client_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    status: Mapped[RestitutionStatus] = mapped_column(enum_column(RestitutionStatus))
    actor: Mapped[str] = mapped_column(String(64))
    request_link_id: Mapped[int | None] = mapped_column(ForeignKey("restitution_links.id"))
    """The contact's request link it came through (marked used once the archive is ready)."""
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    download_link_id: Mapped[int | None] = mapped_column(ForeignKey("restitution_links.id"))
    mail_sent_to: Mapped[str | None] = mapped_column(String(254))
    problem: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
