"""Signing in to the client's space without a password: a link mailed to a known contact,
spent once, opens a session limited to that contact's client.

Who may ask: an active billing contact of a client, or a client's signer (its contract
address). The request is answered the same way whether the address is known or not; the
caller learns nothing from the result but the links to mail. A link lives 30 minutes; it is
spent by one conditional UPDATE, and its session row holds it under a unique key: of twenty
uses at once, one opens a session and the others are told the link has served."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import links
from app.audit import services as audit
from app.client_space.errors import SignInLinkGone
from app.client_space.models import SpaceLink, SpaceSession
from app.clients.models import BillingContact, Client

LINK_VALIDITY = timedelta(minutes=30)
# A working session in the space: long enough to read and download, short enough that a
# shared computer forgotten signed in closes itself.
SESSION_VALIDITY = timedelta(hours=4)

UNKNOWN = (
    "Ce lien de connexion n'est pas valable. Vérifiez l'adresse reçue par courriel, ou "
    "demandez un nouveau lien."
)
USED = (
    "Ce lien de connexion a déjà servi : chaque lien n'ouvre qu'une session. Demandez un "
    "nouveau lien si vous êtes déconnecté."
)
EXPIRED = "Ce lien de connexion a expiré (il est valable 30 minutes). Demandez-en un nouveau."
_GONE = {
    links.LinkState.UNKNOWN: UNKNOWN,
    links.LinkState.USED: USED,
    links.LinkState.EXPIRED: EXPIRED,
}
NO_ACCESS = (
    "Cette adresse n'a plus accès à l'espace client. Adressez-vous à votre interlocuteur "
    "commercial."
)


@dataclass(frozen=True)
class IssuedSignIn:
    """A link just created: the client, the address and the token to mail (never stored)."""

    client: Client
    email: str
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class Opened:
    """A session just opened, and its token for the browser's cookie (never stored)."""

    session: SpaceSession
    token: str


def clients_reachable_by(session: Session, email: str) -> list[Client]:
    """The clients for which `email` is an active billing contact or the signer."""
    address = email.strip().lower()
    if not address:
        return []
    by_contact = select(BillingContact.client_id).where(
        func.lower(BillingContact.email) == address, BillingContact.active.is_(True)
    )
    return list(
        session.scalars(
            select(Client)
            .where(
                Client.anonymised_at.is_(None),
                (Client.id.in_(by_contact)) | (func.lower(Client.signer_email) == address),
            )
            .order_by(Client.id)
        )
    )


def may_sign_in(session: Session, client_id: int, email: str) -> bool:
    return any(client.id == client_id for client in clients_reachable_by(session, email))


def issue_links(session: Session, email: str, *, now: datetime) -> list[IssuedSignIn]:
    """One link per client the address may open; none for an unknown address (the caller
    answers the same)."""
    issued = []
    for client in clients_reachable_by(session, email):
        made = links.fresh(now, LINK_VALIDITY)
        link = SpaceLink(client_id=client.id, email=email.strip().lower(), **made.columns())
        session.add(link)
        session.flush()
        audit.record_about(
            session,
            "client_space_link",
            link,
            now=now,
            actor="anonymous",
            action="client_space.link_requested",
            details={"email": link.email},
        )
        issued.append(IssuedSignIn(client, link.email, made.token, link.expires_at))
    return issued


def check_link(session: Session, token: str, now: datetime) -> SpaceLink:
    """The link if it may still open a session; SignInLinkGone saying why otherwise."""
    link = links.find(session, SpaceLink, token)
    if link is None:
        raise SignInLinkGone(UNKNOWN)
    if (found := links.state(link, now)) is not links.LinkState.OPEN:
        raise SignInLinkGone(_GONE[found])
    if not may_sign_in(session, link.client_id, link.email):
        raise SignInLinkGone(NO_ACCESS)
    return link


def open_session(session: Session, token: str, *, now: datetime, ip: str | None) -> Opened:
    """Spend the link and open its session. Spent by one conditional UPDATE: of two uses at
    once, the second updates nothing and is told the link has served."""
    link = check_link(session, token, now)
    if not links.spend(session, SpaceLink, link.id, now=now):
        raise SignInLinkGone(USED)
    made = links.fresh(now, SESSION_VALIDITY)
    opened = SpaceSession(
        client_id=link.client_id, link_id=link.id, email=link.email, **made.columns()
    )
    session.add(opened)
    session.flush()
    details = {"email": link.email, "ip": ip}
    _journal(session, opened, "client_space.signed_in", now=now, details=details)
    return Opened(opened, made.token)


def current_session(session: Session, token: str | None, now: datetime) -> SpaceSession | None:
    """The open session behind the browser's token: not ended, not expired, and its contact
    still allowed (a contact deactivated meanwhile is out at its next page)."""
    if not token:
        return None
    found = links.find(session, SpaceSession, token)
    if found is None or found.ended_at is not None or found.expires_at <= now:
        return None
    if not may_sign_in(session, found.client_id, found.email):
        return None
    return found


def end_session(session: Session, token: str | None, *, now: datetime) -> None:
    found = current_session(session, token, now)
    if found is None:
        return
    found.ended_at = now
    _journal(session, found, "client_space.signed_out", now=now)


def _journal(
    session: Session,
    space: SpaceSession,
    action: str,
    *,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    """A space session's events are the contact's, filed under the session and its client (the
    client's journal shows who came in, and when they left)."""
    audit.record_about(
        session,
        "client_space_session",
        space,
        now=now,
        actor=f"contact:{space.email}",
        action=action,
        details=details,
    )
