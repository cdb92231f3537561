"""Accounts managed from the web: "mot de passe oublié", invitations, roles, deactivation.

Services in the feature's usual form: they take a session and `now`, journal what they change,
and never commit. A link's token (`app.links`) is returned once to the caller, which mails it;
only its SHA-256 is stored."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import links
from app.auth.errors import AccountLinkInvalid, AuthError
from app.auth.models import AccountLink, LinkPurpose, Role, User
from app.auth.services import (
    change_password,
    create_user,
    deactivate_user,
    end_sessions,
    journal_user,
)
from app.errors import FieldErrors
from app.printable import capacity_problem

# Long enough to read the mail the same morning, short enough that a link found later in a
# mailbox (or a forwarded mail) no longer opens the account.
RESET_VALIDITY = timedelta(hours=1)
# An invited colleague may be away for a few days.
INVITATION_VALIDITY = timedelta(days=7)

LINK_INVALID = (
    "Ce lien n'est plus valable (déjà utilisé, expiré ou remplacé par un plus récent). "
    "Demandez-en un nouveau depuis la page « Mot de passe oublié »."
)


@dataclass(frozen=True)
class IssuedLink:
    """A link just created: the user it opens, and the token to put in the mail (never
    stored, never shown again)."""

    user: User
    token: str
    expires_at: datetime


def _issue(session: Session, user: User, purpose: LinkPurpose, now: datetime) -> IssuedLink:
    # Only the latest link of a kind works: an older mail, forwarded or found later, is dead.
    session.execute(
        update(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.purpose == purpose,
            AccountLink.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    validity = RESET_VALIDITY if purpose is LinkPurpose.PASSWORD_RESET else INVITATION_VALIDITY
    made = links.fresh(now, validity)
    session.add(AccountLink(user_id=user.id, purpose=purpose, **made.columns()))
    session.flush()
    return IssuedLink(user=user, token=made.token, expires_at=made.expires_at)


def issue_password_reset(session: Session, *, email: str, now: datetime) -> IssuedLink | None:
    """A reset link for the active account at `email`, or None when there is none. The caller
    answers the same in both cases (no account enumeration)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        return None
    issued = _issue(session, user, LinkPurpose.PASSWORD_RESET, now)
    journal_user(session, user, "user.password_reset_requested", now=now, actor="anonymous")
    return issued


def open_link(session: Session, token: str, now: datetime) -> AccountLink:
    """The link behind `token` if it may still set a password; AccountLinkInvalid otherwise."""
    link = links.find(session, AccountLink, token)
    # One message whatever the reason: the page asks for a new link in every case.
    if link is None or links.state(link, now) is not links.LinkState.OPEN:
        raise AccountLinkInvalid(LINK_INVALID)
    user = session.get(User, link.user_id)
    if user is None or not user.active:
        raise AccountLinkInvalid(LINK_INVALID)
    return link


def set_password_with_link(session: Session, *, token: str, password: str, now: datetime) -> User:
    """Spend the link and set the password; every session the user had open ends."""
    link = open_link(session, token, now)
    # Two tabs submitting the same link at once cannot both succeed.
    if not links.spend(session, AccountLink, link.id, now=now):
        raise AccountLinkInvalid(LINK_INVALID)
    user = session.get(User, link.user_id)
    assert user is not None  # checked by open_link
    change_password(session, user, password=password, now=now, actor=f"user:{user.id}")
    invited = link.purpose is LinkPurpose.INVITATION
    action = "user.invitation_accepted" if invited else "user.password_reset"
    journal_user(session, user, action, now=now, actor=f"user:{user.id}")
    return user


def checked_title(title: str) -> str | None:
    """A user's capacity (« fonction ») as stored: trimmed, None when blank; `FieldErrors` on
    ``title`` when it could not be printed (too long, control or unprintable characters)."""
    if problem := capacity_problem(title):
        raise FieldErrors({"title": problem})
    return title.strip() or None


def invite_user(
    session: Session,
    *,
    email: str,
    full_name: str,
    role: Role,
    now: datetime,
    actor: str,
    title: str = "",
) -> IssuedLink:
    """Create the account and its invitation link. The account's password is random and never
    known to anyone: the only way in is the link."""
    user = create_user(
        session,
        email=email,
        full_name=full_name,
        role=role,
        password=secrets.token_urlsafe(32),
        now=now,
        actor=actor,
        title=checked_title(title),
    )
    issued = _issue(session, user, LinkPurpose.INVITATION, now)
    journal_user(session, user, "user.invited", now=now, actor=actor)
    return issued


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.active.desc(), User.full_name)))


def _other_user(session: Session, user_id: int, acting: User) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise AuthError(f"Utilisateur n° {user_id} inconnu.")
    if user.id == acting.id:
        # An administrator who demotes or deactivates themself may leave nobody to undo it.
        raise AuthError("Vous ne pouvez pas modifier votre propre rôle ni désactiver votre compte.")
    return user


def change_role(session: Session, user_id: int, *, role: Role, acting: User, now: datetime) -> User:
    """A new role; the user's sessions end, so that no page opened under the old role's
    permissions stays usable."""
    user = _other_user(session, user_id, acting)
    if user.role is role:
        return user
    previous = user.role
    user.role = role
    session.flush()
    end_sessions(session, user)
    journal_user(
        session,
        user,
        "user.role_changed",
        now=now,
        actor=f"user:{acting.id}",
        details={"from": previous.value, "to": role.value},
    )
    return user


def deactivate(session: Session, user_id: int, *, acting: User, now: datetime) -> User:
    user = _other_user(session, user_id, acting)
    if user.active:
        deactivate_user(session, user, now=now, actor=f"user:{acting.id}")
    return user


def reactivate(session: Session, user_id: int, *, acting: User, now: datetime) -> User:
    """The account can log in again with its password (sessions ended at deactivation stay
    ended)."""
    user = _other_user(session, user_id, acting)
    if not user.active:
        user.active = True
        session.flush()
        journal_user(session, user, "user.reactivated", now=now, actor=f"user:{acting.id}")
    return user


def change_title(
    session: Session, user_id: int, *, title: str, acting: User, now: datetime
) -> User:
    """The capacity the user countersigns in from now on (an administrator may set their own).
    Versions already generated keep the capacity they printed."""
    new = checked_title(title)
    user = session.get(User, user_id)
    if user is None:
        raise AuthError(f"Utilisateur n° {user_id} inconnu.")
    if user.title == new:
        return user
    previous, user.title = user.title, new
    session.flush()
    journal_user(
        session,
        user,
        "user.title_changed",
        now=now,
        actor=f"user:{acting.id}",
        details={"from": previous, "to": new},
    )
    return user
