"""Users, passwords and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.audit import services as audit
from app.auth.errors import AuthError, InvalidCredentials, TokenError
from app.auth.models import ApiToken, Role, Scope, User

API_KEY_PREFIX = "pph_"
MIN_PASSWORD_LENGTH = 12
# Checked against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("paraphe-timing-equaliser")


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
) -> User:
    email = email.strip().lower()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères.")
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise AuthError(f"Un utilisateur {email} existe déjà.")
    user = User(
        email=email,
        full_name=full_name.strip(),
        role=role,
        password_hash=hash_password(password),
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        now=now,
        actor=actor,
        action="user.created",
        subject_type="user",
        subject_id=user.id,
        details={"email": email, "role": role.value},
    )
    return user


def authenticate(session: Session, *, email: str, password: str, now: datetime) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        raise InvalidCredentials("Adresse e-mail ou mot de passe incorrect.")
    if not check_password_hash(user.password_hash, password) or not user.active:
        raise InvalidCredentials("Adresse e-mail ou mot de passe incorrect.")
    user.last_login_at = now
    return user


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
        raise TokenError("Un jeton doit avoir au moins une portée (read, restitution, admin).")
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


def list_api_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))


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
