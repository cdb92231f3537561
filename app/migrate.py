"""Running Alembic from Paraphe (no alembic.ini to keep in sync: the config is built here)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # '%' must be doubled for ConfigParser (passwords in URLs may contain it).
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    """The revision this code's migrations end at (`paraphe db upgrade` brings a base to it)."""
    return scripts().get_current_head()


def is_known(revision: str) -> bool:
    """Whether this code has the migration `revision`: a base at a revision it does not know
    comes from newer code, and cannot be brought to this code's head (nor read by it)."""
    return revision in {script.revision for script in scripts().walk_revisions()}


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(""))


def check(database_url: str) -> None:
    """Raise if the models and the migrations disagree (alembic check)."""
    command.check(alembic_config(database_url))


def autogenerate(database_url: str, message: str) -> None:
    command.revision(alembic_config(database_url), message=message, autogenerate=True)
