"""Recording an event in the caller's transaction (the outbox): it lands with the change it
describes or vanishes with it, so no event is lost and none is sent for a rolled-back change.

Ordering: each event carries the next number of its resource (`sequence`). Events are recorded
right after `audit.record`, whose chain-head row lock serialises every writer on PostgreSQL
(SQLite serialises writers anyway), so reading the last number then writing the next is safe;
the unique constraint would refuse a duplicate all the same."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.events.catalogue import EVENT_TYPES, TEST_EVENT
from app.events.models import Event

PENDING_KEY = "paraphe.events_recorded"
"""Set in `session.info` when an event is recorded: after the commit, the outbox hook
(`app.events.outbox`) asks for a dispatch."""


@dataclass(frozen=True)
class Resource:
    """What an event is about: its type, its id as the API names it, and the API path that
    serves it (relative: the delivery prefixes PARAPHE_BASE_URL)."""

    type: str
    id: int | str
    path: str | None = None


def new_public_id() -> str:
    return "evt_" + secrets.token_hex(12)


def record(
    session: Session,
    type: str,
    resource: Resource,
    payload: dict[str, Any],
    *,
    now: datetime,
) -> Event:
    """Write one event in the caller's transaction. `payload` says what changed (numbers,
    states, dates), never a document's content; the resource and its link are added here."""
    if type not in EVENT_TYPES and type != TEST_EVENT:
        raise ValueError(f"unknown event type {type!r}")
    resource_id = str(resource.id)
    last = session.scalar(
        select(func.max(Event.sequence)).where(
            Event.resource_type == resource.type, Event.resource_id == resource_id
        )
    )
    sequence = (last or 0) + 1
    data = {
        "object": resource.type,
        "id": resource.id,
        "sequence": sequence,
        **({"links": {"api": resource.path}} if resource.path else {}),
        **payload,
    }
    event = Event(
        public_id=new_public_id(),
        type=type,
        resource_type=resource.type,
        resource_id=resource_id,
        sequence=sequence,
        payload=data,
        created_at=now,
    )
    session.add(event)
    session.flush()
    session.info[PENDING_KEY] = True
    return event
