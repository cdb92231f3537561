"""The client's space: the sign-in links mailed to a contact, and the sessions they open.

A link is spent once: the session row points at it under a unique key, so two uses at the
same moment (a double click, a mail scanner racing the person) open one session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class SpaceLink(Base):
    __tablename__ = "client_space_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    # the address it was mailed to: a billing contact's or the signer's, checked again on use
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SpaceSession(Base):
    """A signed-in contact: limited to one client, apart from staff sessions (the browser
    keeps only a random token; the row, hashed, says which client it opens)."""

    __tablename__ = "client_space_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("client_space_links.id"), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
