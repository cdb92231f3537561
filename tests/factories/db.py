"""The app's collaborators and database, as a test reaches them."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.db import transaction
from app.runtime import Runtime


def runtime(app: Flask) -> Runtime:
    rt: Runtime = app.extensions["paraphe"]
    return rt


def session_of(app: Flask) -> Session:
    """A plain session for reading the database from a test (use it in a `with`)."""
    return runtime(app).session_factory()


def count(app: Flask, model: Any, *where: Any) -> int:
    with session_of(app) as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def execute_sql(app: Flask, statement: str) -> None:
    """Run and commit `statement` behind the services (what a forger with database access
    would do)."""
    with transaction(runtime(app).session_factory) as session:
        session.execute(text(statement))
