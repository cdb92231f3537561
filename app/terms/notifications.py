"""What a client does with a CGV notification: accept the version by its personal link or
in its space, the versions still waiting for its acceptance, and the notifications' page of
a version. The rows are planned, claimed and mailed by `planning`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, SQLColumnExpression, func, select
from sqlalchemy.orm import Session

from app.messages import Moment, msg
from app.terms.acceptances import ClickThrough, accept_notified, refuse_if_accepted
from app.terms.errors import (
    AcceptanceLinkGone,
    AcceptanceLinkUnknown,
    AcceptanceRefused,
    CgvNotFound,
    CgvQueryInvalid,
)
from app.terms.models import CgvAcceptance, CgvNotification, CgvVersion
from app.tokens import token_hash


def find_acceptance_link(
    session: Session, token: str, now: datetime, *, for_update: bool = False
) -> CgvNotification:
    stmt = select(CgvNotification).where(CgvNotification.link_token_hash == token_hash(token))
    if for_update:
        stmt = stmt.with_for_update(of=CgvNotification)
    notification = session.scalar(stmt)
    if notification is None:
        raise AcceptanceLinkUnknown(
            msg("Ce lien d'acceptation n'existe pas. Vérifiez l'adresse reçue par courriel.")
        )
    if notification.link_used_at is not None:
        when = Moment(notification.link_used_at)
        raise AcceptanceLinkGone(
            msg(
                "Ce lien a déjà servi : la version {notification_cgv_version_label} a été "
                "acceptée le {when}.",
                notification_cgv_version_label=notification.cgv_version.label,
                when=when,
            )
        )
    refuse_if_accepted(session, notification.client_id, notification.cgv_version)
    if notification.link_expires_at is None or notification.link_expires_at <= now:
        raise AcceptanceLinkGone(
            msg("Ce lien d'acceptation a expiré. Demandez un nouvel envoi à votre interlocuteur.")
        )
    return notification


def accept_through_link(
    session: Session,
    token: str,
    *,
    version_id: int | None,
    click: ClickThrough,
    now: datetime,
) -> CgvAcceptance:
    """The click-through acceptance: the link, the version and the exact text shown must all
    match; the link then cannot serve again."""
    notification = find_acceptance_link(session, token, now, for_update=True)
    version = session.get(CgvVersion, version_id) if version_id is not None else None
    if version is None:
        raise CgvNotFound(msg("Cette version des CGV n'est pas publiée : rien n'a été enregistré."))
    if version.id != notification.cgv_version_id:
        raise AcceptanceRefused(
            msg(
                "Ce lien ne permet d'accepter que la version {notification_cgv_version_label} : "
                "rien n'a été enregistré.",
                notification_cgv_version_label=notification.cgv_version.label,
            )
        )
    return accept_notified(
        session, notification, version, click, person_email=notification.email, now=now
    )


def _accepted(
    client_id: int | SQLColumnExpression[int], version_id: int | SQLColumnExpression[int]
) -> Select[tuple[int]]:
    return select(CgvAcceptance.id).where(
        CgvAcceptance.client_id == client_id, CgvAcceptance.cgv_version_id == version_id
    )


def pending_notifications(session: Session, client_id: int) -> Sequence[CgvNotification]:
    """The versions mailed to the client and not accepted yet, by their link or otherwise (a
    contract signed since carries its acceptance): what its space offers to accept."""
    accepted = _accepted(CgvNotification.client_id, CgvNotification.cgv_version_id)
    return session.scalars(
        select(CgvNotification)
        .where(
            CgvNotification.client_id == client_id,
            CgvNotification.link_used_at.is_(None),
            CgvNotification.link_token_hash.is_not(None),
            ~accepted.exists(),
        )
        .order_by(CgvNotification.id)
    ).all()


def accept_in_space(
    session: Session,
    client_id: int,
    *,
    version_id: int,
    click: ClickThrough,
    person_email: str,
    now: datetime,
) -> CgvAcceptance:
    """The acceptance from the client's space, signed in by `person_email`: the same checks
    and the same evidence as the mailed link, whose notification it spends (one acceptance,
    whichever way comes first)."""
    notification = session.scalar(
        select(CgvNotification)
        .where(
            CgvNotification.client_id == client_id,
            CgvNotification.cgv_version_id == version_id,
            CgvNotification.link_token_hash.is_not(None),  # mailed with its acceptance link
        )
        .with_for_update(of=CgvNotification)
    )
    if notification is None:
        raise CgvNotFound(msg("Aucune version des CGV n'attend votre acceptation sous ce numéro."))
    if notification.link_used_at is not None:
        when = Moment(notification.link_used_at)
        raise AcceptanceLinkGone(
            msg(
                "La version {notification_cgv_version_label} a déjà été acceptée le {when}.",
                notification_cgv_version_label=notification.cgv_version.label,
                when=when,
            )
        )
    return accept_notified(
        session, notification, notification.cgv_version, click, person_email=person_email, now=now
    )


NOTIFICATIONS_PER_PAGE = 50
"""Rows of the version's page: a version sent to 10,000 clients is read page by page, its
counts (`progress_of`) stay those of every client."""


@dataclass(frozen=True)
class NotificationPage:
    rows: Sequence[CgvNotification]
    number: int
    total: int
    """Every notification of the version, not only this page's."""
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """The position of the page's first row (1-based; 0 for an empty version)."""
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def notifications_page(
    session: Session, version_id: int, number: int, *, per_page: int = NOTIFICATIONS_PER_PAGE
) -> NotificationPage:
    """Page `number` (from 1) of the version's notifications, in the order they were made.
    A page past the last is refused (`CgvQueryInvalid`), not shown empty."""
    of_version = CgvNotification.cgv_version_id == version_id
    total = session.scalar(select(func.count()).where(of_version)) or 0
    page = NotificationPage((), number, total, per_page)
    if not 1 <= number <= page.pages:
        raise CgvQueryInvalid(
            {
                "page": msg(
                    "Page {number} inexistante : de 1 à {page_pages}.",
                    number=number,
                    page_pages=page.pages,
                )
            }
        )
    rows = session.scalars(
        select(CgvNotification)
        .where(of_version)
        .order_by(CgvNotification.id)
        .offset((number - 1) * per_page)
        .limit(per_page)
    ).all()
    return NotificationPage(rows, number, total, per_page)
