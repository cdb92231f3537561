"""Expiring links kept in the database: the password-reset and invitation links (`auth`), the
client space's sign-in links and its sessions (`client_space`).

They share one life, written here once so that it cannot drift between them: a token made from
the OS CSPRNG (`app.tokens`) goes into the mail or the cookie and is never stored; the row keeps
its SHA-256, when it was made and when it expires. A token is found by its hash alone: the
database compares digests of a secret the caller cannot choose, so nothing is learnt from how
long a wrong guess takes. A link serves once, spent by one conditional UPDATE, so that of two
uses at once (two tabs, a double click) exactly one wins."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, Protocol, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.tokens import new_link_token, token_hash


# Two views of the same rows, because mypy reads SQLAlchemy's columns two ways: on the class
# they are SQL expressions (for the queries below), on a row loaded they are plain values.
class LinkTable(Protocol):
    """A table of rows opened by a token: links, sessions."""

    id: ClassVar[InstrumentedAttribute[int]]
    token_hash: ClassVar[InstrumentedAttribute[str]]


class SingleUseTable(LinkTable, Protocol):
    """A table of links that serve once: `used_at` is set when one is spent, or when a newer
    one replaces it."""

    used_at: ClassVar[InstrumentedAttribute[datetime | None]]


class SingleUse(Protocol):
    """One such link, loaded."""

    @property
    def used_at(self) -> datetime | None: ...

    @property
    def expires_at(self) -> datetime: ...


T = TypeVar("T", bound=LinkTable)


class LinkState(enum.Enum):
    """Why a link does or does not open: each feature words its own message for each case."""

    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    OPEN = "open"


@dataclass(frozen=True)
class Fresh:
    """A token just made: `token` in clear for the mail or the cookie (never stored), and the
    columns its row keeps."""

    token: str
    token_hash: str
    created_at: datetime
    expires_at: datetime

    def columns(self) -> dict[str, object]:
        """The keyword arguments of the row's constructor, besides the feature's own."""
        return {
            "token_hash": self.token_hash,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
        }


def fresh(now: datetime, validity: timedelta) -> Fresh:
    token = new_link_token()
    return Fresh(token, token_hash(token), now, now + validity)


def find(session: Session, model: type[T], token: str) -> T | None:
    """The row behind `token`, whatever its state."""
    return session.scalar(select(model).where(model.token_hash == token_hash(token)))


def state(link: SingleUse | None, now: datetime) -> LinkState:
    if link is None:
        return LinkState.UNKNOWN
    if link.used_at is not None:
        return LinkState.USED
    if link.expires_at <= now:
        return LinkState.EXPIRED
    return LinkState.OPEN


def spend(session: Session, model: type[SingleUseTable], link_id: int, *, now: datetime) -> bool:
    """Mark the link used; False when another use spent it first (the UPDATE, conditional on
    `used_at` being empty, then touches no row)."""
    spent = session.execute(
        update(model)
        .where(model.id == link_id, model.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return getattr(spent, "rowcount", 0) == 1
