"""API tokens are cached per process for TOKEN_CACHE_TTL: a revocation made by another process
(the CLI, another server worker) takes effect within that delay; an expiry at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select, update

from app.auth.models import ApiToken, Scope
from app.auth.services import TOKEN_CACHE_TTL, TokenCache, create_api_token, revoke_api_token
from app.db import transaction

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def _token(app: Flask, *, expires_at: datetime | None = None) -> tuple[int, str]:
    with transaction(app.extensions["paraphe"].session_factory) as session:
        token, plaintext = create_api_token(
            session, name="cache", scopes=[Scope.READ], now=T0, expires_at=expires_at
        )
        return token.id, plaintext


def test_a_revocation_elsewhere_takes_effect_within_the_ttl(app: Flask) -> None:
    factory = app.extensions["paraphe"].session_factory
    token_id, plaintext = _token(app)
    cache = TokenCache()
    with factory() as session:
        grant, written = cache.resolve(session, plaintext, T0)
        assert grant is not None and grant.id == token_id and grant.scopes == {Scope.READ}
        assert written  # first use recorded
        session.commit()
    # Another process revokes it: this one does not see it until its entry is TTL old...
    with transaction(factory) as session:
        revoke_api_token(session, token_id, now=T0, actor="cli")
    almost = T0 + TOKEN_CACHE_TTL - timedelta(seconds=1)
    with factory() as session:
        assert cache.resolve(session, plaintext, almost)[0] is not None
        # ... then it re-reads the row, and refuses the token from then on.
        assert cache.resolve(session, plaintext, T0 + TOKEN_CACHE_TTL) == (None, False)
        assert cache.resolve(session, plaintext, T0 + TOKEN_CACHE_TTL * 3) == (None, False)


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
