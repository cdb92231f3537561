"""`app.wiring.unit_of_work`, the edge's one commit: kept on success, undone on an error,
kept and raised on the errors it is told to keep (a failed check journaled before a 503)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask

from app.auth import services as auth
from app.auth.models import Scope
from app.db import transaction
from app.documents.errors import DocumentIntegrityFailed
from app.wiring import unit_of_work

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _names(app: Flask) -> list[str]:
    with transaction(app.extensions["paraphe"].session_factory) as session:
        return [t.name for t in auth.list_api_tokens(session, oldest_first=True)]


def _create(name: str) -> None:
    with unit_of_work() as session:
        auth.create_api_token(session, name=name, scopes=[Scope.READ], now=T0)
        if name == "refusé":
            raise ValueError("refusé")
        if name == "journalisé":
            raise DocumentIntegrityFailed("fichier endommagé")


def test_commits_on_success_rolls_back_on_error(app: Flask) -> None:
    with app.app_context():
        _create("gardé")
        with pytest.raises(ValueError):
            _create("refusé")
        _create("après")  # the same request's session: the refused write is not carried over
    assert _names(app) == ["gardé", "après"]


def test_commits_then_raises_the_errors_it_keeps(app: Flask) -> None:
    with app.app_context():
        with (
            pytest.raises(DocumentIntegrityFailed),
            unit_of_work(commit_on=(DocumentIntegrityFailed,)) as session,
        ):
            auth.create_api_token(session, name="journalisé", scopes=[Scope.READ], now=T0)
            raise DocumentIntegrityFailed("fichier endommagé")
        with pytest.raises(DocumentIntegrityFailed):
            _create("journalisé")  # not kept: this block did not ask for it
    assert _names(app) == ["journalisé"]
