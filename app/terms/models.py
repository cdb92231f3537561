from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Amount, Base, UTCDateTime
from app.enums import LabelledEnum, enum_column


class VersionKind(StrEnum):
    MINOR = "minor"  # wording only: opposable once notified and effective
    MATERIAL = "material"  # money, duration, termination: opposable only once accepted


class LateInterestRule(LabelledEnum):
    """How late-payment interest is computed (Code de commerce L441-10): stated by the CGV
    version a contract is signed under, or by a particular term that overrides it."""

    ECB_PLUS_10 = "ecb_plus_10"
    THREE_TIMES_LEGAL = "three_times_legal"


class AcceptanceMethod(StrEnum):
    CONTRACT_SIGNATURE = "contract_signature"
    CLICK_THROUGH = "click_through"
    ACCOUNT_CREATION = "account_creation"


class CgvVersion(Base):
    """A published version of the general terms of sale. Never updated once published."""

    __tablename__ = "cgv_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    effective_date: Mapped[date] = mapped_column(index=True)
    body_markdown: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[VersionKind] = mapped_column(enum_column(VersionKind))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The PDF/A rendered once at publication and archived (kind cgv, no client).
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    # What the version says of late payment, declared at publication and checked against
    # the text (``rules.stated_penalties``): the rule of late interest (None: the version
    # states none, so the rate of Code de commerce L441-10 applies), the article that says
    # it, and the fixed recovery indemnity per unpaid invoice (at least 40 €, D441-5).
    late_interest_rule: Mapped[LateInterestRule | None] = mapped_column(
        enum_column(LateInterestRule)
    )
    penalty_article: Mapped[str | None] = mapped_column(String(200))
    recovery_indemnity: Mapped[Decimal] = mapped_column(
        Amount(), default=Decimal("40.00"), server_default=text("'40.00'")
    )
    # When the fan-out job wrote one notification row per active client (None: not yet; the
    # periodic sweep runs it if its job was lost). The progress "n sur N" counts those rows.
    # A version published without notification (command line, demo data) has it from the
    # start: no fan-out is due.
    notifications_planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CgvAcceptance(Base):
    """Append-only: a correction is a new record, never an update."""

    __tablename__ = "cgv_acceptances"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    cgv_version_id: Mapped[int] = mapped_column(ForeignKey("cgv_versions.id"), index=True)
    person_name: Mapped[str] = mapped_column(String(200))
    person_email: Mapped[str] = mapped_column(String(254))
    text_sha256: Mapped[str] = mapped_column(String(64))
    method: Mapped[AcceptanceMethod] = mapped_column(enum_column(AcceptanceMethod))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    contract_version_id: Mapped[int | None] = mapped_column(ForeignKey("contract_versions.id"))
    signature_request_id: Mapped[int | None] = mapped_column(ForeignKey("signature_requests.id"))

    cgv_version: Mapped[CgvVersion] = relationship(lazy="joined")


class CgvNotification(Base):
    """One client told by email of one version. `sent_at` is set once the mail went out: a
    minor version binds the client from then on. For a material version, the email carries a
    click-through acceptance link whose token is stored here hashed (256 bits, expiring)."""

    __tablename__ = "cgv_notifications"
    __table_args__ = (UniqueConstraint("client_id", "cgv_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    cgv_version_id: Mapped[int] = mapped_column(ForeignKey("cgv_versions.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set by the job about to mail this client (a conditional update: one job wins); cleared
    # when the mail failed, so that a retry sends it. A claim older than
    # `planning.CLAIM_LEASE` belongs to a job that died and may be taken again.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    link_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    link_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    link_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    cgv_version: Mapped[CgvVersion] = relationship(lazy="joined", innerjoin=True)


class CgvPreview(Base):
    """A version as legal submitted it, before publication: its converted text, rendered to
    PDF by a job, shown with its table of articles. Only a previewed text is published: the
    publication names the hash that was on screen, and the preview records the version it
    became (unique: a double click or a retry publishes once)."""

    __tablename__ = "cgv_previews"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    effective_date: Mapped[date]
    kind: Mapped[VersionKind] = mapped_column(enum_column(VersionKind))
    summary: Mapped[str] = mapped_column(Text, default="")
    body_markdown: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))  # of body_markdown, as versions hash it
    source_format: Mapped[str] = mapped_column(String(10))  # markdown, text or docx
    source_filename: Mapped[str | None] = mapped_column(String(255))
    # legal's declaration of late-payment terms, checked with the text (versions.check_version)
    late_interest_rule: Mapped[LateInterestRule | None] = mapped_column(
        enum_column(LateInterestRule)
    )
    penalty_article: Mapped[str | None] = mapped_column(String(200))
    recovery_indemnity: Mapped[Decimal] = mapped_column(Amount())
    penalties_from_text: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # the rendering job's result: the PDF as it will be published, or why it failed
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    rendered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    render_error: Mapped[str | None] = mapped_column(Text)
    published_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("cgv_versions.id"), unique=True
    )
