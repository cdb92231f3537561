from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class AuditEvent(Base):
    """One entry of the append-only journal. `hash` covers this event and `prev_hash`, so any
    edit, insertion or deletion breaks the chain from that point on."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[int | None] = mapped_column(index=True)
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditChainHead(Base):
    """A single row locked by whoever appends, so concurrent writers chain one after another."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_event_id: Mapped[int | None]
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditAnchor(Base):
    """An RFC 3161 timestamp of the journal's head: the TSA's token over the hash of event
    `event_id` proves that the journal up to that event existed, as it is, at the token's time.
    A journal rewritten afterwards, even with every hash recomputed, no longer matches it."""

    __tablename__ = "audit_anchors"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(index=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    timestamped_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the token's genTime
    tsa_url: Mapped[str] = mapped_column(String(500))
    token: Mapped[bytes] = mapped_column(LargeBinary)  # DER ContentInfo, as the TSA sent it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
