"""Route guards: every web route names the permission it needs; every API route its scope."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort, current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from app.auth.models import Scope, User
from app.auth.rules import Permission, can
from app.auth.services import TokenCache, TokenGrant, session_is_current
from app.db import utcnow
from app.messages import msg
from app.wiring import db_session, read_only_db_session

P = ParamSpec("P")
R = TypeVar("R")


def current_user() -> User | None:
    if "user" not in g:
        user_id = session.get("user_id")
        user = db_session().get(User, user_id) if isinstance(user_id, int) else None
        # A cookie from before a logout, a password change or a deactivation (even one copied
        # elsewhere) is refused: its generation is no longer the user's.
        if user is not None and not session_is_current(user, session.get("gen")):
            user = None
        g.user = user
    found: User | None = g.user
    return found


def signed_in_user() -> User:
    """The user of a view behind `require` (or of a template it renders): the guard has
    already turned away anyone not signed in, so there is always one here."""
    user = current_user()
    if user is None:
        raise RuntimeError("signed_in_user() outside a route guarded by require()")
    return user


def require(permission: Permission) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    def decorator(view: Callable[P, R]) -> Callable[P, R | Response]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            user = current_user()
            if user is None:
                return redirect(url_for("auth.login", next=request.full_path))
            if not can(user.role, permission):
                abort(403, msg("Votre rôle ne permet pas cette action."))
            return view(*args, **kwargs)

        wrapped.__dict__["required_permission"] = permission  # read by the access-matrix test
        return wrapped

    return decorator


def current_token() -> TokenGrant:
    token: TokenGrant = g.api_token
    return token


def token_cache() -> TokenCache:
    """This application's cache of valid API tokens (one per process and app)."""
    cache = current_app.extensions.get("paraphe_token_cache")
    if cache is None:
        cache = current_app.extensions.setdefault("paraphe_token_cache", TokenCache())
    assert isinstance(cache, TokenCache)
    return cache


def require_scope(scope: Scope) -> Callable[[Callable[P, R]], Callable[P, R]]:
    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            header = request.headers.get("Authorization", "")
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                abort(401, msg("Jeton d'API requis (en-tête Authorization: Bearer …)."))
            # The token's revocation is read on every request: in autocommit on PostgreSQL (one
            # round trip, no BEGIN/ROLLBACK), then the guard's work is ended so that the view
            # starts afresh (in autocommit again if it only reads, in a transaction if it
            # writes). The last use, recorded to the minute, is kept even if the view fails.
            session = read_only_db_session()
            token, _last_use_written = token_cache().resolve(session, value.strip(), utcnow())
            session.commit()
            if token is None:
                abort(401, msg("Jeton d'API inconnu, expiré ou révoqué."))
            if scope not in token.scopes:
                abort(
                    403,
                    msg("Ce jeton n'a pas la portée « {scope_value} ».", scope_value=scope.value),
                )
            g.api_token = token
            return view(*args, **kwargs)

        wrapped.__dict__["required_scope"] = scope
        return wrapped

    return decorator
