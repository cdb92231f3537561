"""The edge's error table (`app.error_table`): every domain error has a row, no row is stale.

Status codes and titles left the exception classes for this table; a class added without a
row of its own falls back on its base's row, a row whose class was deleted or renamed would
silently never match: both are checked here over every `DomainError` the app defines."""

from __future__ import annotations

import importlib
import pkgutil

import app
import app.models  # every feature's models, hence most of their errors
from app.archive.errors import ArchiveQueryInvalid, RestitutionLinkGone
from app.error_table import TABLE, ErrorRow, key_of, row_for
from app.errors import Conflict, DomainError, FieldErrors, Gone, NotFound
from app.signatures.errors import AlreadySent, ArchivedNotAPdf, RevisionIntegrityFailed


def _all_domain_errors() -> set[type[DomainError]]:
    for module in pkgutil.walk_packages(app.__path__, "app."):
        if module.name.endswith(".errors"):
            importlib.import_module(module.name)
    found: set[type[DomainError]] = set()
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        cls = pending.pop()
        found.add(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_domain_error_resolves_to_a_row() -> None:
    classes = _all_domain_errors()
    assert len(classes) > 40  # the walk reached the features' modules
    for cls in classes:
        row = row_for(cls)
        assert isinstance(row, ErrorRow), cls
        assert 400 <= row.status < 600, cls
        assert row.title and row.title_en, cls


def test_the_table_holds_no_class_that_no_longer_exists() -> None:
    classes = _all_domain_errors()
    # Keys are dotted names (the table imports no feature): a renamed or moved class would
    # leave a key that names nothing, and its errors would silently fall back on a base row.
    names = {key_of(cls) for cls in classes}
    stale = [key for key in TABLE if key not in names]
    assert stale == []


def test_a_subclass_inherits_its_base_row_unless_it_has_its_own() -> None:
    assert row_for(ArchiveQueryInvalid) is TABLE[key_of(FieldErrors)]
    assert row_for(AlreadySent("x")).title == "Déjà envoyé pour signature"
    assert row_for(AlreadySent).status == row_for(Conflict).status == 409
    assert (row_for(ArchivedNotAPdf).status, row_for(ArchivedNotAPdf).title) == (
        409,
        "Document non vérifiable",
    )
    assert row_for(RevisionIntegrityFailed).status == 503
    assert row_for(RestitutionLinkGone).template == "restitution/gone.html"
    assert row_for(Gone).template is None
    assert (row_for(NotFound).status, row_for(NotFound).title) == (404, "Introuvable")


def test_domain_errors_carry_no_http() -> None:
    for cls in _all_domain_errors():
        assert "status" not in vars(cls) and "title" not in vars(cls), cls


def test_the_table_imports_no_feature() -> None:
    # Any layer may read it (a signer's page showing a refusal in place): it must not pull the
    # features above that layer in with it.
    import ast
    from pathlib import Path

    source = Path(app.__file__).parent / "error_table.py"
    imported = {
        node.module
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert {m for m in imported if m.startswith("app.")} == {"app.errors"}
