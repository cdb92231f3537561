"""docs/architecture.md follows the code: every package, module or file it names exists.

A maintainer reads that page to find where a rule lives; a name that was moved or deleted
would send them to nothing. Names are what the page writes between backticks: paths
(`app/documents/serving.py`, `signing/`) and dotted names (`app.pki`,
`signatures.services.lock_version`), the latter resolved from `app` when they do not start
with a root package."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
ROOTS = ("app", "signing", "storage", "tests", "bench", "templates")
FEATURES = tuple(p.name for p in (ROOT / "app").iterdir() if p.is_dir())

_CODE = re.compile(r"`([^`\s]+)`")
_PATH = re.compile(r"^(?:app|signing|storage|tests|bench|templates|docs|\.ci)/[\w./-]*$")
_DOTTED = re.compile(r"^[a-z_][\w]*(?:\.[A-Za-z_]\w*)+$")


def _names() -> list[str]:
    return sorted(set(_CODE.findall(DOC.read_text(encoding="utf-8"))))


def _resolves(dotted: str) -> bool:
    """True when `dotted` is a module, or an attribute reachable from the longest importable
    module prefix (a function, class, constant or method)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_the_page_names_code() -> None:
    # Guards the test itself: if the patterns stopped matching, every check below would pass.
    names = _names()
    assert sum(bool(_PATH.match(n)) for n in names) >= 10
    assert sum(bool(_DOTTED.match(n)) for n in names) >= 10


@pytest.mark.parametrize("name", [n for n in _names() if _PATH.match(n)])
def test_named_path_exists(name: str) -> None:
    path = ROOT / name.split("::")[0].rstrip("/")
    if not path.exists() and "*" not in name and "<" not in name:
        pytest.fail(f"docs/architecture.md nomme `{name}`, qui n'existe pas")


@pytest.mark.parametrize(
    "name",
    [
        n
        for n in _names()
        if _DOTTED.match(n)
        and (n.split(".")[0] in ROOTS or n.split(".")[0] in FEATURES)
        and not n.endswith((".py", ".md", ".toml", ".json", ".html", ".txt"))
    ],
)
def test_named_module_or_symbol_exists(name: str) -> None:
    dotted = name if name.split(".")[0] in ROOTS else f"app.{name}"
    assert _resolves(dotted), f"docs/architecture.md nomme `{name}`, introuvable ({dotted})"


_TABLE_PACKAGE = re.compile(r"^\| `(\w+)` \|", re.M)


def _table_packages() -> list[str]:
    return _TABLE_PACKAGE.findall(DOC.read_text(encoding="utf-8"))


def test_the_capability_table_lists_packages() -> None:
    assert len(_table_packages()) >= 10


@pytest.mark.parametrize("package", _table_packages())
def test_capability_table_names_a_package(package: str) -> None:
    assert (ROOT / "app" / package / "__init__.py").exists() or (
        ROOT / "app" / f"{package}.py"
    ).exists(), f"docs/architecture.md décrit le paquet `{package}`, absent de app/"
