"""An event: one change to one resource, kept in the outbox table until every endpoint that
subscribes to it has its delivery row (and afterwards, for polling and redelivery)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        # Two events of one resource never share a number: a receiver orders them by it.
        UniqueConstraint("resource_type", "resource_id", "sequence"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The stable id receivers see (`webhook-id`, `GET /api/v1/events?after=`): random, so it
    # says nothing of how many events an instance records.
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(60), index=True)
    resource_type: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[str] = mapped_column(String(40))
    sequence: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set once the event is fanned out to the endpoints' deliveries; the sweep finds the rest.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
