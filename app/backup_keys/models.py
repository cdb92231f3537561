from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.enums import enum_column


class KeyPurpose(StrEnum):
    CLIENT = "client"  # a client's documents: destroyed by the purge of the client
    LEGAL = "legal"  # invoices and credit notes the law keeps, by year their retention ends
    PLATFORM = "platform"  # the rest (sealed journal anchors, documents of no client)


class BackupKey(Base):
    """Which encryption keys exist and whether they were destroyed. The key bytes are in the
    keyring file only (never in the database, so never in a dump)."""

    __tablename__ = "backup_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[KeyPurpose] = mapped_column(enum_column(KeyPurpose))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    destroyed_reason: Mapped[str | None] = mapped_column(String(300))
