from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.contracts.models import ContractVersion
from app.db import Base, UTCDateTime
from app.documents.models import Document
from app.enums import enum_column


class RequestStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    PARTIALLY_SIGNED = "partially_signed"
    COMPLETED = "completed"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


# A request in these states holds its contract version: at most one per version (the partial
# unique index below). Declined, expired and cancelled requests free the version for a new
# send (see lifecycle.close), so they are outside the index.
LIVE_STATUSES = (
    RequestStatus.DRAFT,
    RequestStatus.SENT,
    RequestStatus.PARTIALLY_SIGNED,
    RequestStatus.COMPLETED,
)
_LIVE = text("status IN ({})".format(", ".join(f"'{s.value}'" for s in LIVE_STATUSES)))


class SignerStatus(StrEnum):
    PENDING = "pending"
    NOTIFIED = "notified"
    OPENED = "opened"
    AUTHENTICATED = "authenticated"
    # Consent recorded by the signing page's POST; the PAdES signature is the job
    # `signatures.sign` (app.signatures.tasks), applied with the consent's time.
    SIGNING = "signing"
    SIGNED = "signed"
    DECLINED = "declined"
    EXPIRED = "expired"


# A request signers can still act on (sign, ask for a code, decline, be reminded).
ACTIVE = (RequestStatus.SENT, RequestStatus.PARTIALLY_SIGNED)
# A signer invited and not yet done: the current group's turn.
WAITING = (
    SignerStatus.NOTIFIED,
    SignerStatus.OPENED,
    SignerStatus.AUTHENTICATED,
)


class SignatureRequest(Base):
    __tablename__ = "signature_requests"
    __table_args__ = (
        Index(
            "uq_signature_requests_live_version",
            "contract_version_id",
            unique=True,
            sqlite_where=_LIVE,
            postgresql_where=_LIVE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_version_id: Mapped[int] = mapped_column(ForeignKey("contract_versions.id"), index=True)
    status: Mapped[RequestStatus] = mapped_column(enum_column(RequestStatus))
    # SHA-256 (blob store key) of the latest revision: the prepared PDF with every field, then
    # the PDF after each signature. Moved forward only by compare-and-swap (see services).
    current_sha256: Mapped[str | None] = mapped_column(String(64))
    signed_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # After this moment an unfinished request expires (`paraphe signatures expire`).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_reason: Mapped[str | None] = mapped_column(Text)
    # A reminder every n days after the invitation (None: the instance's PARAPHE_REMINDER_DAYS).
    reminder_every_days: Mapped[int | None]
    # Set when the platform seal is in the archived document; completed and unsealed = stuck.
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The sealed evidence file (PDF) and its JSON form, archived once the contract is sealed.
    evidence_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    evidence_json_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    seal_attempts: Mapped[int] = mapped_column(default=0)
    seal_error: Mapped[str | None] = mapped_column(Text)

    contract_version: Mapped[ContractVersion] = relationship(lazy="joined")
    signers: Mapped[list[Signer]] = relationship(
        back_populates="request", order_by="Signer.position"
    )
    signed_document: Mapped[Document | None] = relationship(foreign_keys=[signed_document_id])
    evidence_document: Mapped[Document | None] = relationship(foreign_keys=[evidence_document_id])


class Signer(Base):
    __tablename__ = "signers"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("signature_requests.id"), index=True)
    position: Mapped[int]
    # Signers of group n are notified once every signer of group n-1 has signed.
    group: Mapped[int] = mapped_column(default=1)
    party: Mapped[str] = mapped_column(String(10))  # "client" or "vendor"
    role: Mapped[str] = mapped_column(String(300))
    field_name: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    status: Mapped[SignerStatus] = mapped_column(enum_column(SignerStatus))
    # SHA-256 of the link token: the token itself exists only in the email sent to the signer.
    # Both unset while the signer waits for an earlier group.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Link to the sealed PDF, mailed at completion (the signing link may have expired by then).
    download_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminders_sent: Mapped[int] = mapped_column(default=0)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # One-time code sent by email: only its HMAC is stored; failed attempts count per signer
    # (a new code does not reset them), and the fifth failure locks the signer out.
    otp_hash: Mapped[str | None] = mapped_column(String(64))
    otp_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    otp_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    otp_failures: Mapped[int] = mapped_column(default=0)
    otp_locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    authenticated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # First view of the document after the code was entered: set once, under the signer's row
    # lock, with the `signer.viewed` event (a second view records nothing).
    viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The consent (the proof: with ip, user_agent, consent_text and the CGV acceptance) is
    # recorded by the POST; the signature applied later by a job carries this time.
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Failed attempts of the signature job (key or TSA down) and the last error: the signer's
    # page says the signature is late and retried; the admins see the failed job.
    sign_attempts: Mapped[int] = mapped_column(server_default=text("0"), default=0)
    sign_error: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    consent_text: Mapped[str | None] = mapped_column(Text)

    request: Mapped[SignatureRequest] = relationship(back_populates="signers")


class LinkReplacement(StrEnum):
    REMINDER = "reminder"
    RESEND = "resend"


class ReplacedSigningLink(Base):
    """A signing link that a newer one replaced (reminder or resend by sales).

    A signer has one valid link at a time (``Signer.token_hash``): links are stored hashed
    only, so a reminder cannot mail the same link again and issues a new one. The replaced
    link's hash is kept here so that opening it says why it stopped working and which mail
    to use, rather than "unknown link"."""

    __tablename__ = "replaced_signing_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    signer_id: Mapped[int] = mapped_column(ForeignKey("signers.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[LinkReplacement] = mapped_column(enum_column(LinkReplacement))

    signer: Mapped[Signer] = relationship()


class PageImage(Base):
    """One page of an archived PDF as a PNG (a blob), for the signing page: phones and
    headless browsers show no PDF in a frame, every browser shows an image.

    Rendered once per document by the job `signatures.page_images` (never in a request); the
    rows of a document are inserted together, so one row means every page is there. The unique
    key makes a second run (a retry, two workers) insert nothing."""

    __tablename__ = "page_images"
    __table_args__ = (UniqueConstraint("document_id", "page"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    page: Mapped[int]  # from 1
    sha256: Mapped[str] = mapped_column(String(64))  # the PNG in the blob store
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
