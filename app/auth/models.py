from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.enums import LabelledEnum, enum_column


class Role(LabelledEnum):
    SALES = "sales"
    LEGAL = "legal"
    ARCHIVIST = "archivist"
    ADMIN = "admin"


class Scope(StrEnum):
    READ = "read"
    RESTITUTION = "restitution"
    ADMIN = "admin"
    WRITE = "write"  # the CRM's writes: clients, quotes, contracts, signature requests


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # The capacity (« fonction ») printed after the name when the user countersigns a contract
    # for the vendor (« Directrice commerciale »); None: none printed.
    title: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Stored in each session cookie at login and compared on every request: raising it (logout,
    # password change, deactivation) ends every session of the user, copied cookies included.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")


class ApiToken(Base):
    """A bearer token for the archivist API. Only its SHA-256 is stored: a database leak
    yields no usable token (tokens are 256-bit random, so a fast hash is enough)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def scope_set(self) -> frozenset[Scope]:
        return frozenset(Scope(s) for s in self.scopes.split())


class RateLimitCounter(Base):
    """One fixed-window counter of the rate limits (`app.auth.ratelimit.DatabaseStorage`):
    kept in the database so that every server process counts in the same place."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int]
    # Epoch seconds, as the `limits` library measures windows (time.time()), not a date.
    expires_at: Mapped[float] = mapped_column(Float)


class LinkPurpose(StrEnum):
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a link kind, not a password)
    INVITATION = "invitation"


class AccountLink(Base):
    """An emailed link that lets its holder choose a password: "mot de passe oublié" or an
    invitation. Only the token's SHA-256 is kept (`app.tokens`); a link works once, until
    `expires_at`, and issuing a new one for the same user and purpose retires the older."""

    __tablename__ = "account_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[LinkPurpose] = mapped_column(enum_column(LinkPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
