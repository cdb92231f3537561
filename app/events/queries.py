"""Reading the outbox: for polling receivers (`GET /api/v1/events?after=`) and redelivery."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.events.models import Event


class UnknownEvent(LookupError):
    """No event has this public id."""


def by_public_id(session: Session, public_id: str) -> Event:
    event = session.scalar(select(Event).where(Event.public_id == public_id))
    if event is None:
        raise UnknownEvent(public_id)
    return event


def events_after(session: Session, after: str | None, *, limit: int) -> Sequence[Event]:
    """The events recorded after the one named `after` (all of them from the first when
    None), oldest first: the order in which they were committed... or at least recorded."""
    stmt = select(Event).order_by(Event.id).limit(limit)
    if after is not None:
        stmt = stmt.where(Event.id > by_public_id(session, after).id)
    return session.scalars(stmt).all()


def events_since(session: Session, since: datetime, types: Sequence[str]) -> Sequence[Event]:
    return session.scalars(
        select(Event).where(Event.created_at >= since, Event.type.in_(types)).order_by(Event.id)
    ).all()
