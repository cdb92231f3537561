"""Reading the outbox: for polling receivers (`GET /api/v1/events?after=`) and redelivery."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.events.catalogue import TEST_EVENT
from app.events.models import Event


class UnknownEvent(LookupError):
    """No event has this public id."""


def by_public_id(session: Session, public_id: str) -> Event:
    event = session.scalar(select(Event).where(Event.public_id == public_id))
    if event is None:
        raise UnknownEvent(public_id)
    return event


def events_after(session: Session, after: str | None, *, limit: int) -> Sequence[Event]:
    """The events recorded after the one named `after` (from the first when None), in the
    order they were recorded. Test events (one endpoint's « Envoyer un événement de test »)
    are not business events: pollers do not see them."""
    stmt = select(Event).where(Event.type != TEST_EVENT).order_by(Event.id).limit(limit)
    if after is not None:
        stmt = stmt.where(Event.id > by_public_id(session, after).id)
    return session.scalars(stmt).all()
