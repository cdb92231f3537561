"""`app.models` registers every table: Alembic and `paraphe db check` read `Base.metadata`
after importing that module alone, so a model it does not reach is a table the migrations
check would call missing (it happened when `Document` moved out of `app.archive.models` and
`RestitutionLink` stayed behind, unimported)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import importlib, pkgutil, app, app.models
from app.db import Base
registered = set(Base.metadata.tables)
for info in pkgutil.walk_packages(app.__path__, "app."):
    if info.name.endswith(".models") or info.name.endswith(".models.__init__"):
        importlib.import_module(info.name)
print(sorted(set(Base.metadata.tables) - registered))
"""


def test_app_models_reaches_every_table() -> None:
    # A fresh interpreter: in the test process every model module is already imported.
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]", f"tables absentes de app.models : {out}"
