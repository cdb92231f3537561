"""Webhook endpoints, their deliveries (one per event and endpoint) and each delivery's
attempts (the log admins read)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime
from app.enums import enum_column
from app.events.models import Event


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Kept as issued, not hashed: Paraphe must sign with it (HMAC), unlike an API token that it
    # only checks. Not encrypted either: the key would live on the same host as the database,
    # so it would only protect a stolen database dump, which holds the clients' data anyway
    # (treat backups as secret). The secret only lets someone forge deliveries to this one
    # receiver; rotating it (with a grace period) is one click.
    secret: Mapped[str] = mapped_column(String(60))
    previous_secret: Mapped[str | None] = mapped_column(String(60))
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when a delivery exhausted its retries; cleared by the next accepted delivery.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt (next_attempt_at)
    DELIVERED = "delivered"  # a 2xx answer
    FAILED = "failed"  # retries exhausted, or the endpoint was disabled or deleted


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    # Exactly one delivery per event and endpoint: a dispatch run twice adds nothing.
    __table_args__ = (UniqueConstraint("event_id", "endpoint_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"), index=True)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # numbers the attempt rows
    # Failures since the delivery was (re)scheduled: the index into the backoff schedule.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # When the next attempt may start; while an attempt runs, the end of its lease (a worker
    # killed mid-attempt leaves it to the sweep after that).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    event: Mapped[Event] = relationship(lazy="joined")
    endpoint: Mapped[WebhookEndpoint] = relationship(lazy="joined")


class AttemptOutcome(StrEnum):
    SENDING = "sending"  # claimed, the POST under way (or its worker died)
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # an answer other than 2xx, a timeout, a connection error
    REFUSED = "refused"  # never sent: the address or the scheme is not allowed


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"
    # One row per attempt number: two workers claiming the same attempt cannot both write it.
    __table_args__ = (UniqueConstraint("delivery_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[AttemptOutcome] = mapped_column(enum_column(AttemptOutcome))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(500))
