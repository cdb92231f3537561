"""Account use cases that send a mail: the link is committed first, then mailed, never with a
transaction open across the mail server's round trip."""

from __future__ import annotations

from app.auth import accounts, mails
from app.auth.models import Role
from app.db import transaction
from app.runtime import Collaborators


def request_password_reset(collab: Collaborators, email: str) -> None:
    """Mail a reset link if `email` is an active account; silently nothing otherwise, so that
    the answer (and the page) never tells whether an address has an account."""
    with transaction(collab.session_factory) as session:
        issued = accounts.issue_password_reset(session, email=email, now=collab.now)
        mail = mails.reset_mail(collab.settings, issued) if issued else None
    if mail is not None:
        collab.mailer.send(mail)


def invite(
    collab: Collaborators,
    *,
    email: str,
    full_name: str,
    role: Role,
    acting_id: int,
    title: str = "",
) -> str:
    """Create the account and mail its invitation; returns the address invited."""
    with transaction(collab.session_factory) as session:
        issued = accounts.invite_user(
            session,
            email=email,
            full_name=full_name,
            role=role,
            title=title,
            now=collab.now,
            actor=f"user:{acting_id}",
        )
        mail = mails.invitation_mail(collab.settings, issued)
    collab.mailer.send(mail)
    return mail.to
