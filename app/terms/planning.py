"""CGV notification planning: one row per active client and version, claimed by the jobs
that mail them (a lease, so that a dead job's rows are taken again), and the progress that
the version's page and the API show. The mails' text is in `letters`; what the client does
with a notification (accept it by its link or in its space) is in `notifications`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from app.clients.models import Client, active_on
from app.clock import business_date
from app.db import UTCDateTime
from app.mail import OutgoingMail
from app.rendering.french import format_decimal, plural, upper_first
from app.terms import letters, rules
from app.terms.acceptances import client_facts, version_facts
from app.terms.models import CgvNotification, CgvVersion, VersionKind
from app.tokens import new_link_token, token_hash

CLAIM_LEASE = timedelta(minutes=30)
"""How long a job's claim on a notification holds. Longer than any run of one claim batch
(`workflow.CLAIM_BATCH` mails, each bounded by the SMTP timeout); a claim older than this
belongs to a job that died (a worker killed) and may be taken again."""


@dataclass(frozen=True)
class Notice:
    """A notification row and the email that tells the client (sent after commit)."""

    notification_id: int
    mail: OutgoingMail


@dataclass(frozen=True)
class Progress:
    """How far the notification of one version is: `notified` of `total` rows mailed;
    `pending` rows of active clients not mailed yet; `planned`: the rows exist."""

    notified: int
    total: int
    pending: int
    planned: bool

    @property
    def done(self) -> bool:
        return self.planned and self.pending == 0

    @property
    def text(self) -> str:
        """Where the notification is, for the version's page: « 2 clients notifiés sur 3 »."""
        if not self.planned:
            return "Notification des clients en préparation"
        if self.total == 0:
            return "Aucun client à notifier"
        return f"{upper_first(self._notified())} sur {format_decimal(self.total)}"

    @property
    def after_publication(self) -> str:
        """What the publication did, for its flash: « 3 clients notifiés. », or what is
        still under way (without a « 0 client notifié » while the mails leave)."""
        if self.done:
            return "aucun client à notifier." if self.total == 0 else f"{self._notified()}."
        if self.notified == 0:
            return "les courriels aux clients partent en arrière-plan."
        return f"{self._notified()}, les autres courriels partent en arrière-plan."

    def _notified(self) -> str:
        if self.notified == 0:
            return "aucun client notifié"
        return plural(self.notified, "client notifié", "clients notifiés")


def plan_notifications(session: Session, version_id: int, now: datetime) -> None:
    """One notification row per active client that has none for this version, written by one
    INSERT … SELECT (10,000 clients in one statement), then the version marked planned. The
    version's row lock makes a second fan-out wait for the first and find the rows written
    (PostgreSQL; SQLite serialises write transactions); the unique (client, version) key
    holds the rest."""
    session.execute(
        select(CgvVersion.id).where(CgvVersion.id == version_id).with_for_update()
    ).one()
    told = select(CgvNotification.id).where(
        CgvNotification.cgv_version_id == version_id, CgvNotification.client_id == Client.id
    )
    rows = select(
        Client.id,
        literal(version_id, Integer()),
        Client.signer_email,
        literal(now, UTCDateTime()),
    ).where(active_on(business_date(now)), ~exists(told))
    session.execute(
        insert(CgvNotification).from_select(
            ["client_id", "cgv_version_id", "email", "created_at"], rows
        )
    )
    session.execute(
        update(CgvVersion)
        .where(CgvVersion.id == version_id, CgvVersion.notifications_planned_at.is_(None))
        .values(notifications_planned_at=now)
    )


def pending_clients(
    session: Session, version_id: int, now: datetime, *, created_before: datetime | None = None
) -> list[int]:
    """The active clients whose notification is neither mailed nor claimed by a live job,
    in id order (``created_before``: only rows older than that, for the sweep)."""
    stmt = (
        select(CgvNotification.client_id)
        .join(Client, Client.id == CgvNotification.client_id)
        .where(
            CgvNotification.cgv_version_id == version_id,
            CgvNotification.sent_at.is_(None),
            _unclaimed(now),
            active_on(business_date(now)),
        )
        .order_by(CgvNotification.client_id)
    )
    if created_before is not None:
        stmt = stmt.where(CgvNotification.created_at < created_before)
    return list(session.scalars(stmt).all())


def _unclaimed(now: datetime) -> ColumnElement[bool]:
    return or_(CgvNotification.claimed_at.is_(None), CgvNotification.claimed_at < now - CLAIM_LEASE)


def claim_notices(
    session: Session,
    version: CgvVersion,
    client_ids: Sequence[int],
    *,
    base_url: str,
    vendor_name: str,
    link_days: int,
    now: datetime,
) -> list[Notice]:
    """Claim the notifications of these clients that no job holds and no mail has left, by
    one conditional UPDATE (the condition is re-checked under each row's lock: of two jobs
    for the same clients, each row goes to one), then build their mails: the change summary
    and the link to the PDF and, for a material version, a personal click-through acceptance
    link. Only a link's hash is stored, so a notification whose mail never left gets a new
    link: the old one was never seen by anyone."""
    active = select(Client.id).where(Client.id.in_(client_ids), active_on(business_date(now)))
    claimed = session.scalars(
        update(CgvNotification)
        .where(
            CgvNotification.cgv_version_id == version.id,
            CgvNotification.client_id.in_(active),
            CgvNotification.sent_at.is_(None),
            _unclaimed(now),
        )
        .values(claimed_at=now)
        .returning(CgvNotification.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        return []
    pending = (
        session.execute(
            select(CgvNotification, Client)
            .join(Client, Client.id == CgvNotification.client_id)
            .where(CgvNotification.id.in_(claimed))
            .order_by(CgvNotification.id)
            .execution_options(populate_existing=True)
        )
        .tuples()
        .all()
    )
    facts = version_facts(session)
    per_client = client_facts(session, [client.id for _, client in pending])
    today = business_date(now)
    notices: list[Notice] = []
    expires_at = now + timedelta(days=link_days)
    for notification, client in pending:
        token = new_link_token() if version.kind is VersionKind.MATERIAL else None
        if token is not None:
            notification.link_token_hash = token_hash(token)
            notification.link_expires_at = expires_at
        known = per_client[client.id]
        binds = token is None and _minor_would_bind(facts, known, version, today)
        accepted_before = any(v != version.id for v in known.accepted_on)
        letter = letters.Letter(version, client, vendor_name, base_url, binds, accepted_before)
        notices.append(
            Notice(notification.id, letters.notification_mail(letter, token, expires_at))
        )
    session.flush()
    return notices


def release_stale_claims(session: Session, now: datetime) -> None:
    """Forget the claims of jobs that died before mailing (older than the lease)."""
    session.execute(
        update(CgvNotification)
        .where(
            CgvNotification.sent_at.is_(None),
            CgvNotification.claimed_at < now - CLAIM_LEASE,
        )
        .values(claimed_at=None)
        .execution_options(synchronize_session=False)
    )


def progress_of(session: Session, version_ids: Sequence[int], today: date) -> dict[int, Progress]:
    """The progress of each version, counted in one grouped query (still to mail: the clients
    still clients ``today``, a termination ahead included)."""
    unsent_active = case(
        (and_(CgvNotification.sent_at.is_(None), active_on(today)), 1),
        else_=0,
    )
    counted = session.execute(
        select(
            CgvNotification.cgv_version_id,
            func.count(),
            func.count(CgvNotification.sent_at),
            func.coalesce(func.sum(unsent_active), 0),
        )
        .join(Client, Client.id == CgvNotification.client_id)
        .where(CgvNotification.cgv_version_id.in_(version_ids))
        .group_by(CgvNotification.cgv_version_id)
    ).all()
    by_version = {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in counted}
    planned = dict(
        session.execute(
            select(CgvVersion.id, CgvVersion.notifications_planned_at).where(
                CgvVersion.id.in_(version_ids)
            )
        )
        .tuples()
        .all()
    )
    result: dict[int, Progress] = {}
    for version_id in version_ids:
        total, notified, pending = by_version.get(version_id, (0, 0, 0))
        result[version_id] = Progress(notified, total, pending, planned.get(version_id) is not None)
    return result


def _minor_would_bind(
    facts: list[rules.VersionFacts], client: rules.ClientFacts, version: CgvVersion, today: date
) -> bool:
    """Whether, once notified, this minor version will bind the client when in force (it will
    not if the client never accepted an earlier material version it builds on)."""
    notified = {**client.notified_on, version.id: today}
    at = max(today, version.effective_date)
    found = rules.opposable_version(
        facts, rules.ClientFacts(accepted_on=client.accepted_on, notified_on=notified), at
    )
    return found is not None and found.id == version.id


def mark_sent(session: Session, notification_id: int, now: datetime) -> None:
    """The email went out: from now on a minor version binds the client (once in force)."""
    session.execute(
        update(CgvNotification)
        .where(CgvNotification.id == notification_id, CgvNotification.sent_at.is_(None))
        .values(sent_at=now)
        .execution_options(synchronize_session=False)
    )


def release(session: Session, notification_id: int) -> None:
    """The mail server refused the email: the claim is dropped, the next run sends it."""
    session.execute(
        update(CgvNotification)
        .where(CgvNotification.id == notification_id, CgvNotification.sent_at.is_(None))
        .values(claimed_at=None)
        .execution_options(synchronize_session=False)
    )
