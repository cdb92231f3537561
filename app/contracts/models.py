from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, text
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
    # The vendor's countersigner printed on the signature page (signs after the client).
    countersigner_name: Mapped[str | None] = mapped_column(String(200))
    countersigner_email: Mapped[str | None] = mapped_column(String(254))
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
