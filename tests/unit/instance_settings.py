"""Settings as `Settings.from_env` reads them for an instance in a test's folder."""

from __future__ import annotations

from pathlib import Path

from app.config import Settings


def settings_in(folder: Path, **variables: str) -> Settings:
    """The settings of an instance in `folder` whose environment also holds `variables`."""
    return Settings.from_env({"PARAPHE_INSTANCE_DIR": str(folder), **variables})
