"""Alembic environment: the URL comes from Paraphe's settings, the metadata from its models."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import VARCHAR, Connection, String

import app.models  # noqa: F401  (registers every table on Base.metadata)
from app.config import Settings
from app.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _compare_type_sqlite(
    _context: Any, _inspected: Any, _metadata: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    """SQLite stores a VARCHAR's length but never enforces it, and changing it means rebuilding
    the table (which fails once other tables reference its rows): a length-only difference is
    no difference there. Anything else is left to Alembic's own comparison (None)."""
    plain = (String, VARCHAR)  # not Text, Enum or other String subclasses
    if (
        type(inspected_type) in plain
        and type(metadata_type) in plain
        and inspected_type.length != metadata_type.length
    ):
        return False
    return None


def _ours(name: str | None, type_: str, _parent: Any) -> bool:
    """The job queue's tables (huey_task, huey_schedule…, created by Huey when the broker is
    the application's PostgreSQL database) are not the schema's: never compared or dropped."""
    return not (type_ == "table" and name is not None and name.startswith("huey_"))


def _configure(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=_compare_type_sqlite if sqlite else True,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        include_name=_ours,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        # also when a migration refuses to run: a pooled connection left to the garbage
        # collector is a ResourceWarning in whatever test runs next
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Paraphe's migrations run online only (paraphe db upgrade).")
run_migrations_online()
