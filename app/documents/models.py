"""The archived document: metadata of an immutable blob named by its SHA-256, with its
retention. Every feature that archives something (contracts, evidence, CGV, invoices,
restitutions) depends on this; it depends on no feature."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.enums import enum_column


class DocumentKind(StrEnum):
    QUOTE = "quote"
    CONTRACT = "contract"
    SIGNED_CONTRACT = "signed_contract"
    EVIDENCE = "evidence"
    CGV = "cgv"
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    RESTITUTION = "restitution"
    DELETION_CERTIFICATE = "deletion_certificate"

    @property
    def folder(self) -> str:
        """Folder name inside a restitution archive (French: the client reads it)."""
        return {
            "quote": "devis",
            "contract": "contrats",
            "signed_contract": "contrats-signes",
            "evidence": "dossiers-de-preuve",
            "cgv": "cgv",
            "invoice": "factures",
            "credit_note": "avoirs",
            "restitution": "restitutions",
            "deletion_certificate": "certificats-de-suppression",
        }[self.value]


class Document(Base):
    """Metadata of an archived, immutable blob. The bytes live in the blob store under sha256."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("kind", "reference", "version"),
        Index("ix_documents_client_kind", "client_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    reference: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(default=1)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    retention_basis: Mapped[str | None] = mapped_column(String(200))
    retention_until: Mapped[date | None]
    legal_hold: Mapped[bool] = mapped_column(default=False)
    legal_hold_reason: Mapped[str | None] = mapped_column(String(500))
    # Set when the retention purge deleted the bytes: the row stays as a tombstone (what was
    # deleted, with its hash), listed by the deletion certificate that recorded it.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    purge_certificate_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
