from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clients.models import Client
from app.db import Base, UTCDateTime
from app.documents.models import Document
from app.enums import enum_column
from app.quotes.models import Quote
from app.terms.models import CgvVersion


class VersionStatus(StrEnum):
    GENERATED = "generated"
    SENT = "sent"
    SIGNED = "signed"
    SUPERSEDED = "superseded"


class Contract(Base):
    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    client: Mapped[Client] = relationship(lazy="joined")
    quote: Mapped[Quote] = relationship()
    versions: Mapped[list[ContractVersion]] = relationship(
        back_populates="contract", order_by="ContractVersion.version"
    )

    @property
    def latest(self) -> ContractVersion:
        return self.versions[-1]


class ContractVersion(Base):
    """One immutable rendering of a contract. The PDF lives in the blob store (document_id)."""

    __tablename__ = "contract_versions"
    __table_args__ = (UniqueConstraint("contract_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    version: Mapped[int]
    status: Mapped[VersionStatus] = mapped_column(enum_column(VersionStatus))
    cgv_version_id: Mapped[int] = mapped_column(ForeignKey("cgv_versions.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    # the quote this version prints (None: the contract's own quote, versions before 0003)
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id"))
    amendment: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    precedence: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The client's signer printed on the signature page: the one person invited to sign for
    # the client, whatever the client record says by the time the version is sent.
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_email: Mapped[str] = mapped_column(String(254))
    # That signer's capacity as printed (the client record's at generation; None: none given).
    signer_title: Mapped[str | None] = mapped_column(String(120))
    # The vendor's countersigner printed on the signature page (signs after the client).
    countersigner_name: Mapped[str | None] = mapped_column(String(200))
    countersigner_email: Mapped[str | None] = mapped_column(String(254))
    # The countersigner's capacity as printed (the user's « fonction » at generation, or the
    # configured representative's; None: none printed). A later change of the user's title
    # never changes what this version printed.
    countersigner_title: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    contract: Mapped[Contract] = relationship(back_populates="versions")
    cgv_version: Mapped[CgvVersion] = relationship(lazy="joined")
    document: Mapped[Document] = relationship(lazy="joined")
    quote: Mapped[Quote | None] = relationship()
    clauses: Mapped[list[ContractClause]] = relationship(
        order_by="ContractClause.position", cascade="all, delete-orphan"
    )

    @property
    def printed_quote(self) -> Quote:
        return self.quote if self.quote is not None else self.contract.quote

    @property
    def label(self) -> str:
        return f"{self.contract.number} v{self.version}"


class ContractClause(Base):
    """A particular term printed in one contract version, exactly as printed (placeholders
    filled): a library clause version picked by sales, or free text (no clause version)."""

    __tablename__ = "contract_clauses"
    __table_args__ = (UniqueConstraint("contract_version_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_version_id: Mapped[int] = mapped_column(ForeignKey("contract_versions.id"), index=True)
    position: Mapped[int]
    clause_version_id: Mapped[int | None] = mapped_column(ForeignKey("clause_versions.id"))
    title: Mapped[str] = mapped_column(String(200))
    body_markdown: Mapped[str] = mapped_column(Text)


class GenerationStatus(StrEnum):
    PENDING = "pending"  # asked on the web; the job `contracts.generate_requested` renders it
    DONE = "done"  # the version exists (made by this request, or by another one first)
    FAILED = "failed"  # refused when rendered (the quote expired meanwhile, …), or the render
    # kept failing (`MAX_RENDER_ATTEMPTS`): `problem` says why


PENDING_GENERATION = "status = 'pending'"


class ContractGeneration(Base):
    """A contract version asked for on the web and rendered by a background job: version 1 of
    a quote's contract (``contract_id`` None until done) or version n+1 of a contract. What the
    follow page, its `suivi.json` and the API's `/contract-generations/{id}` read. Asked by a
    user on the web (`author_id`) or by an API token (`token_id`, with the countersigner the
    body named), never both.

    Of two clicks while one generation is pending, the second is the first: the partial unique
    indexes hold one pending generation per quote (version 1) and per contract (version n+1)."""

    __tablename__ = "contract_generations"
    __table_args__ = (
        Index(
            "uq_contract_generations_pending_quote",
            "quote_id",
            unique=True,
            sqlite_where=text(f"{PENDING_GENERATION} AND first_version"),
            postgresql_where=text(f"{PENDING_GENERATION} AND first_version"),
        ),
        Index(
            "uq_contract_generations_pending_contract",
            "contract_id",
            unique=True,
            sqlite_where=text(PENDING_GENERATION),
            postgresql_where=text(PENDING_GENERATION),
        ),
        CheckConstraint(
            "(author_id IS NULL) <> (token_id IS NULL)", name="asked_by_a_user_or_a_token"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_version: Mapped[bool]
    # version 1: the quote contracted; version n+1: the revised quote, if one was picked
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    based_on: Mapped[int | None]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    countersigner_name: Mapped[str | None] = mapped_column(String(200))
    countersigner_email: Mapped[str | None] = mapped_column(String(254))
    # The client's signer the API body named (None: the client record's when rendered).
    signer_name: Mapped[str | None] = mapped_column(String(200))
    signer_email: Mapped[str | None] = mapped_column(String(254))
    signer_title: Mapped[str | None] = mapped_column(String(120))
    clause_version_ids: Mapped[list[int]] = mapped_column(JSON)
    free_text: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[GenerationStatus] = mapped_column(enum_column(GenerationStatus))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("contract_versions.id"))
    problem: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Asked again from the page of a failed generation: the one first asked (never a retry
    # itself), whose rule of who countersigns the retry follows (see requested._countersigner).
    retry_of: Mapped[int | None] = mapped_column(ForeignKey("contract_generations.id"))
    render_attempts: Mapped[int] = mapped_column(server_default=text("0"), default=0)
    """Renders that crashed (not a refusal): at `requested.MAX_RENDER_ATTEMPTS` the generation
    is failed, and the sweep stops enqueuing it."""
