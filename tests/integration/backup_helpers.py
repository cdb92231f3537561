"""A second, empty instance to restore into (its own database and blob store, the same PKI
and keyring as the first: what an operator brings to the new machine)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from app.config import Settings
from tests.conftest import _postgres_database


@contextlib.contextmanager
def fresh_settings(
    settings: Settings, root: Path, *, storage_url: str | None = None
) -> Iterator[Settings]:
    root.mkdir(parents=True)
    databases = None
    if settings.database_backend == "postgresql":
        databases = _postgres_database(settings.database_url)
        url = next(databases)
    else:
        url = f"sqlite:///{root / 'paraphe.db'}"
    try:
        yield replace(
            settings,
            instance_dir=root,
            database_url=url,
            storage_dir=root / "blobs",
            storage_url=storage_url,
        )
    finally:
        if databases is not None:
            databases.close()


def with_backup(settings: Settings, url: str, keyring: Path) -> Settings:
    return replace(settings, backup=replace(settings.backup, url=url, keyring_path=keyring))
