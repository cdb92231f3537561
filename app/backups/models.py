from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.enums import enum_column


class RunState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class BackupRun(Base):
    """One backup attempt. `slot` is unique: the periodic job names the interval it runs for,
    so twenty workers (or a double start) taking the same slot make one backup; the others
    find the row and stop. A run killed midway stays `running`: the next slot starts afresh."""

    __tablename__ = "backup_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    slot: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[RunState] = mapped_column(enum_column(RunState))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    name: Mapped[str | None] = mapped_column(String(64))  # the manifest's name at the target
    blobs: Mapped[int | None]
    copied: Mapped[int | None]
    copied_bytes: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
