"""Users, passwords and API tokens."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.audit import services as audit
from app.auth.errors import AuthError, InvalidCredentials, TokenError
from app.auth.models import ApiToken, Role, Scope, User
from app.messages import msg

API_KEY_PREFIX = "pph_"
MIN_PASSWORD_LENGTH = 12
# Checked against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("paraphe-timing-equaliser")


def journal_user(
    session: Session,
    user: User,
    action: str,
    *,
    now: datetime,
    actor: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Journal one change to an account: every entry about a user is filed under the same
    subject, so that the account's history is one query on the journal."""
    audit.record(
        session,
        now=now,
        actor=actor,
        action=action,
        subject_type="user",
        subject_id=user.id,
        details=details,
    )


def hash_password(password: str) -> str:
    # Werkzeug's default is scrypt with a random salt: memory-hard, no extra dependency.
    return generate_password_hash(password)


def create_user(
    session: Session,
    *,
    email: str,
    full_name: str,
    role: Role,
    password: str,
    now: datetime,
    actor: str = "system",
    title: str | None = None,
) -> User:
    """``title``: the capacity printed when the user countersigns (checked by the caller:
    `app.auth.accounts.checked_title`)."""
    email = email.strip().lower()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères.")
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise AuthError(f"Un utilisateur {email} existe déjà.")
    user = User(
        email=email,
        full_name=full_name.strip(),
        title=title,
        role=role,
        password_hash=hash_password(password),
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    journal_user(
        session,
        user,
        "user.created",
        now=now,
        actor=actor,
        details={"email": email, "role": role.value},
    )
    return user


def authenticate(session: Session, *, email: str, password: str, now: datetime) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        raise InvalidCredentials(msg("Adresse e-mail ou mot de passe incorrect."))
    if not check_password_hash(user.password_hash, password) or not user.active:
        raise InvalidCredentials(msg("Adresse e-mail ou mot de passe incorrect."))
    user.last_login_at = now
    return user


def log_in(session: Session, *, email: str, password: str, now: datetime) -> User:
    """`authenticate`, and the login journaled (`user.login`)."""
    user = authenticate(session, email=email, password=password, now=now)
    journal_user(session, user, "user.login", now=now, actor=f"user:{user.id}")
    return user


def log_out(session: Session, user_id: object, generation: object, *, now: datetime) -> None:
    """End every session of the user a cookie names (`user_id`, `generation` as read from
    it), journaled (`user.logout`); nothing if the cookie's session had already ended.

    Every session, not just this cookie: a copy of it (another browser, a stolen cookie) must
    not outlive the logout."""
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not session_is_current(user, generation):
        return
    end_sessions(session, user)
    journal_user(session, user, "user.logout", now=now, actor=f"user:{user.id}")


def end_sessions(session: Session, user: User) -> None:
    """End every session of `user`, on every server process: each cookie carries the
    generation it was opened under, and `session_is_current` refuses any older one."""
    # Incremented in SQL, not in Python: two concurrent logouts both move it.
    session.execute(
        update(User)
        .where(User.id == user.id)
        .values(session_generation=User.session_generation + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(user, ["session_generation"])


def session_is_current(user: User, generation: object) -> bool:
    """Whether a session opened under `generation` still belongs to an active user."""
    return user.active and isinstance(generation, int) and generation == user.session_generation


def find_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise AuthError(f"Aucun utilisateur {email.strip().lower()}.")
    return user


def change_password(
    session: Session, user: User, *, password: str, now: datetime, actor: str
) -> None:
    """A new password, and the end of every session opened with the old one."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères.")
    user.password_hash = hash_password(password)
    session.flush()
    end_sessions(session, user)
    journal_user(session, user, "user.password_changed", now=now, actor=actor)


def deactivate_user(session: Session, user: User, *, now: datetime, actor: str) -> None:
    """The user can no longer log in, and every session already open ends at once."""
    user.active = False
    session.flush()
    end_sessions(session, user)
    journal_user(session, user, "user.deactivated", now=now, actor=actor)


def token_digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def create_api_token(
    session: Session,
    *,
    name: str,
    scopes: Iterable[Scope],
    now: datetime,
    created_by: User | None = None,
    expires_at: datetime | None = None,
    actor: str = "system",
) -> tuple[ApiToken, str]:
    """Return the row and the plaintext token; the plaintext is shown once and never stored."""
    scope_list = sorted({Scope(s) for s in scopes})
    if not scope_list:
        raise TokenError(msg("Un jeton doit avoir au moins une portée (read, restitution, admin)."))
    plaintext = API_KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name.strip(),
        prefix=plaintext[:12],
        token_hash=token_digest(plaintext),
        scopes=" ".join(s.value for s in scope_list),
        created_at=now,
        created_by_id=created_by.id if created_by else None,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        now=now,
        actor=actor,
        action="api_token.created",
        subject_type="api_token",
        subject_id=token.id,
        details={"name": token.name, "scopes": token.scopes},
    )
    return token, plaintext


LAST_USE_RESOLUTION = timedelta(minutes=1)


def resolve_api_token(session: Session, plaintext: str, now: datetime) -> ApiToken | None:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(plaintext)))
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    # Recorded to the minute: writing the row at every request would serialise all the
    # concurrent requests of one token on its row lock.
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_RESOLUTION:
        token.last_used_at = now
    return token


@dataclass(frozen=True)
class TokenGrant:
    """What a request needs from its API token: who (for the journal) and which scopes."""

    id: int
    scopes: frozenset[Scope]
    expires_at: datetime | None


TOKEN_CACHE_TTL = timedelta(seconds=30)
"""How long a process keeps a token's grant (scopes, expiry) before re-reading its row. A
revocation does not wait for it: every request checks the row's `revoked_at` by primary key."""


_tokens = cast(Table, ApiToken.__table__)  # a mapped class's table is a Table


@dataclass
class _Cached:
    grant: TokenGrant
    checked_at: datetime
    last_used_at: datetime | None


class TokenCache:
    """Valid API tokens by digest, re-read from the database once they are `ttl` old.

    A warm request then costs no lookup by digest and loads no ORM row (they were a large part
    of a metadata read's CPU), only one read of `revoked_at` by primary key, folded into the
    last-use write when that is due: a revocation made anywhere (the CLI, another server
    process) is refused by every process on its very next request. Unknown, revoked and expired
    tokens are never cached, so a new token works at once; the last use is recorded to the
    minute."""

    def __init__(self, ttl: timedelta = TOKEN_CACHE_TTL, max_entries: int = 4096) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def resolve(
        self, session: Session, plaintext: str, now: datetime
    ) -> tuple[TokenGrant | None, bool]:
        """The token's grant (None if unknown, revoked or expired), and whether its last use
        was written into `session` (then the caller commits)."""
        digest = token_digest(plaintext)
        cached = self._entries.get(digest)
        if cached is not None and now - cached.checked_at < self.ttl:
            expires_at = cached.grant.expires_at
            if expires_at is not None and expires_at <= now:
                self._drop(digest)
                return None, False
            if cached.last_used_at is None or now - cached.last_used_at >= LAST_USE_RESOLUTION:
                # The write checks the revocation too: one statement, no extra read.
                written = cast(  # an UPDATE's result is a cursor result (it has a rowcount)
                    CursorResult[Any],
                    session.execute(
                        update(_tokens)
                        .where(_tokens.c.id == cached.grant.id, _tokens.c.revoked_at.is_(None))
                        .values(last_used_at=now)
                    ),
                )
                if written.rowcount == 0:
                    self._drop(digest)
                    return None, False
                cached.last_used_at = now
                return cached.grant, True
            # A Core statement on the table: the ORM's select compilation costs more than the
            # round trip on a warm request.
            revoked = session.execute(
                select(_tokens.c.revoked_at).where(_tokens.c.id == cached.grant.id)
            ).first()
            if revoked is None or revoked.revoked_at is not None:  # revoked (or deleted) anywhere
                self._drop(digest)
                return None, False
            return cached.grant, False
        token = resolve_api_token(session, plaintext, now)
        if token is None:
            self._drop(digest)
            return None, False
        grant = TokenGrant(id=token.id, scopes=token.scope_set, expires_at=token.expires_at)
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # only live tokens are cached: this never thrashes
            self._entries[digest] = _Cached(grant, now, token.last_used_at)
        return grant, bool(session.dirty)

    def forget(self, token_id: int) -> None:
        """Drop a token revoked by this process (its row is re-checked anyway; this frees the
        entry)."""
        with self._lock:
            for digest in [d for d, c in self._entries.items() if c.grant.id == token_id]:
                del self._entries[digest]

    def _drop(self, digest: str) -> None:
        with self._lock:
            self._entries.pop(digest, None)


def list_api_tokens(session: Session, *, oldest_first: bool = False) -> list[ApiToken]:
    """Newest first (the admin page), or oldest first (`paraphe tokens list`)."""
    order = ApiToken.id.asc() if oldest_first else ApiToken.id.desc()
    return list(session.scalars(select(ApiToken).order_by(order)))


def revoke_api_token(session: Session, token_id: int, *, now: datetime, actor: str) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise TokenError(f"Jeton n° {token_id} inconnu.")
    if token.revoked_at is None:
        token.revoked_at = now
        audit.record(
            session,
            now=now,
            actor=actor,
            action="api_token.revoked",
            subject_type="api_token",
            subject_id=token.id,
        )
    return token
