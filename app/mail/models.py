"""The transactional outbox: one row per outgoing mail, written in the transaction that decides
to send it, delivered by the job `mail.deliver` once that transaction has committed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime
from app.enums import enum_column


class MailStatus(StrEnum):
    PENDING = "pending"  # waits for its job (first attempt or a retry)
    SENDING = "sending"  # claimed by a job, handed to the mail server now
    SENT = "sent"  # the mail server accepted it (sent_at, message_id: the proof)
    FAILED = "failed"  # every attempt failed: listed for the admins, who may retry it


class OutgoingMailRecord(Base):
    __tablename__ = "outgoing_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Generated at insertion and sent with every attempt: a receiver that gets the same
    # message twice (the one window in app.mail.delivery) can tell it is one message.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    # A caller that may run twice (a retried workflow) names its mail: the second insert
    # finds the first row instead of adding one.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(Text)  # "Name <address>", as in the To header
    subject: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[MailStatus] = mapped_column(enum_column(MailStatus, 10), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the last attempt started: a "sending" row whose attempt is old lost its worker.
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    attachments: Mapped[list[OutgoingMailAttachment]] = relationship(
        order_by="OutgoingMailAttachment.position", cascade="all, delete-orphan"
    )


class OutgoingMailAttachment(Base):
    """The attached bytes themselves: a mail must be sendable again as it was asked, even if
    the document it came from has been purged since."""

    __tablename__ = "outgoing_mail_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    mail_id: Mapped[int] = mapped_column(
        ForeignKey("outgoing_mails.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
