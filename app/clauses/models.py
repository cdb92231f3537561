from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime


class Clause(Base):
    """A clause of the library managed by legal; its text lives in immutable versions."""

    __tablename__ = "clauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    versions: Mapped[list[ClauseVersion]] = relationship(
        back_populates="clause", order_by="ClauseVersion.version"
    )

    @property
    def latest(self) -> ClauseVersion:
        return self.versions[-1]


class ClauseVersion(Base):
    """One wording of a clause. Never updated: a change is a new version."""

    __tablename__ = "clause_versions"
    __table_args__ = (UniqueConstraint("clause_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clauses.id"), index=True)
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body_markdown: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    clause: Mapped[Clause] = relationship(back_populates="versions")
