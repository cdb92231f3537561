"""API tokens are cached per process for TOKEN_CACHE_TTL, but a revocation made by another
process (the CLI, another server worker) is refused on the very next request; an expiry too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select, update

from app.auth.models import ApiToken, Role, Scope
from app.auth.services import TOKEN_CACHE_TTL, TokenCache, create_api_token, revoke_api_token
from app.config import Settings
from app.db import transaction
from tests.conftest import csrf_from
from tests.factories import login_as, make_token

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def _token(app: Flask, *, expires_at: datetime | None = None) -> tuple[int, str]:
    with transaction(app.extensions["paraphe"].session_factory) as session:
        token, plaintext = create_api_token(
            session, name="cache", scopes=[Scope.READ], now=T0, expires_at=expires_at
        )
        return token.id, plaintext


def test_a_revocation_elsewhere_is_refused_on_the_next_request(app: Flask) -> None:
    factory = app.extensions["paraphe"].session_factory
    token_id, plaintext = _token(app)
    cache = TokenCache()
    with factory() as session:
        grant, written = cache.resolve(session, plaintext, T0)
        assert grant is not None and grant.id == token_id and grant.scopes == {Scope.READ}
        assert written  # first use recorded
        session.commit()
        # Cached, within the minute: no write, still granted.
        assert cache.resolve(session, plaintext, T0 + timedelta(seconds=1)) == (grant, False)
    # Another process revokes it: this one refuses it at once, well within the cache's TTL...
    with transaction(factory) as session:
        revoke_api_token(session, token_id, now=T0, actor="cli")
    with factory() as session:
        assert cache.resolve(session, plaintext, T0 + timedelta(seconds=2)) == (None, False)
        assert cache.resolve(session, plaintext, T0 + TOKEN_CACHE_TTL * 3) == (None, False)


def test_a_revocation_is_seen_when_the_last_use_is_due(app: Flask) -> None:
    """The last-use write, once a minute, carries the revocation check itself."""
    factory = app.extensions["paraphe"].session_factory
    token_id, plaintext = _token(app)
    cache = TokenCache(ttl=timedelta(hours=1))
    with factory() as session:
        assert cache.resolve(session, plaintext, T0)[0] is not None
        session.commit()
    with transaction(factory) as session:
        revoke_api_token(session, token_id, now=T0, actor="cli")
    with factory() as session:
        assert cache.resolve(session, plaintext, T0 + timedelta(minutes=2)) == (None, False)
        session.commit()
        assert session.scalar(select(ApiToken.last_used_at)) == T0  # nothing written


def test_two_server_processes_revocation_through_one_is_refused_by_the_other(
    app: Flask, settings: Settings, make_app: Callable[[Settings], Flask]
) -> None:
    """Two applications on one database stand for two `paraphe serve` workers, each with its
    own token cache: the token revoked through the first one's admin page is refused by the
    second on the very next request."""
    other = make_app(settings)
    plaintext = make_token(app, Scope.READ)
    bearer = {"Authorization": f"Bearer {plaintext}"}
    first, second = app.test_client(), other.test_client()
    assert first.get("/api/v1/documents", headers=bearer).status_code == 200
    assert second.get("/api/v1/documents", headers=bearer).status_code == 200  # now cached
    admin = login_as(app, Role.ADMIN)
    page = admin.get("/admin/jetons")
    with transaction(factory := app.extensions["paraphe"].session_factory) as session:
        token_id = session.scalar(select(ApiToken.id))
    response = admin.post(
        f"/admin/jetons/{token_id}/revocation",
        data={"csrf_token": csrf_from(page.get_data(as_text=True))},
        follow_redirects=True,
    )
    assert "refusé dès maintenant par tous les serveurs" in response.get_data(as_text=True)
    assert second.get("/api/v1/documents", headers=bearer).status_code == 401
    assert first.get("/api/v1/documents", headers=bearer).status_code == 401
    with transaction(factory) as session:
        assert session.scalar(select(ApiToken.revoked_at)) is not None


def test_cached_tokens_still_expire_and_record_their_last_use(app: Flask) -> None:
    factory = app.extensions["paraphe"].session_factory
    token_id, plaintext = _token(app, expires_at=T0 + timedelta(seconds=20))
    cache = TokenCache(ttl=timedelta(hours=1))
    with factory() as session:
        assert cache.resolve(session, plaintext, T0)[0] is not None
        session.commit()
        # Within the minute: no write; a minute later: the last use moves, from the cache.
        assert cache.resolve(session, plaintext, T0 + timedelta(seconds=10))[1] is False
        session.execute(update(ApiToken).values(expires_at=T0 + timedelta(hours=2)))
        session.commit()
    with factory() as session:
        # The cached expiry (20 s) still applies: the entry is not re-read within the TTL.
        assert cache.resolve(session, plaintext, T0 + timedelta(seconds=20)) == (None, False)
        grant, written = cache.resolve(session, plaintext, T0 + timedelta(minutes=5))
        assert grant is not None and written  # re-read: the new expiry, last use written
        session.commit()
        assert session.scalar(select(ApiToken.last_used_at)) == T0 + timedelta(minutes=5)
        grant, written = cache.resolve(session, plaintext, T0 + timedelta(minutes=6, seconds=1))
        assert grant is not None and written  # served from the cache, last use still recorded
        session.commit()
        last = session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token_id))
        assert last == T0 + timedelta(minutes=6, seconds=1)
    with factory() as session:
        assert cache.resolve(session, "pph_unknown", T0)[0] is None
