"""CGV notifications (one per active client and version) and click-through acceptance links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    SQLColumnExpression,
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
from app.rendering.french import format_date, format_datetime
from app.rendering.labels import label
from app.terms import rules
from app.terms.acceptances import (
    accept_notified,
    client_facts,
    refuse_if_accepted,
    version_facts,
)
from app.terms.errors import (
    AcceptanceLinkGone,
    AcceptanceLinkUnknown,
    AcceptanceRefused,
    CgvNotFound,
    CgvQueryInvalid,
)
from app.terms.models import (
    CgvAcceptance,
    CgvNotification,
    CgvVersion,
    VersionKind,
)
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
        if not self.planned:
            return "Notification des clients en préparation"
        return f"{self.notified} client(s) notifié(s) sur {self.total}"


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
        binds = token is None and _minor_would_bind(facts, per_client[client.id], version, today)
        letter = Letter(version, client, vendor_name, base_url, binds)
        notices.append(Notice(notification.id, _notification_mail(letter, token, expires_at)))
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


@dataclass(frozen=True)
class Letter:
    """What a notification mail says to one client."""

    version: CgvVersion
    client: Client
    vendor_name: str
    base_url: str
    binds: bool  # a minor version that will bind the client once notified and in force


def _notification_mail(letter: Letter, token: str | None, expires_at: datetime) -> OutgoingMail:
    """The mail links to the archived PDF and gives the summary, never the whole text: a CGV
    runs to tens of kilobytes, and the PDF is the document the client is bound by."""
    version, client, vendor = letter.version, letter.client, letter.vendor_name
    effective = format_date(version.effective_date)
    lines = [
        f"Bonjour {client.signer_name},",
        "",
        f"{vendor} publie la version {version.label} de ses {version.title.lower()}, "
        f"en vigueur à compter du {effective} (modification {label(version.kind)}).",
        "",
        "Résumé des modifications :",
        version.summary or "(aucun résumé)",
        "",
        f"Le texte intégral (PDF) : {letter.base_url}/cgv/{version.label}.pdf",
        f"Empreinte SHA-256 du texte : {version.sha256}",
        "",
    ]
    if token is not None:
        lines += [
            "Cette version modifie des conditions substantielles : elle ne s'appliquera à "
            f"{client.legal_name} qu'après votre acceptation expresse. Pour la lire et "
            "l'accepter, ouvrez ce lien personnel :",
            f"{letter.base_url}/cgv/accepter/{token}",
            f"Ce lien est valable jusqu'au {format_date(expires_at)}.",
            "",
            "D'ici là, la dernière version que vous avez acceptée continue de s'appliquer.",
        ]
    elif letter.binds:
        lines += [
            "Cette modification ne change pas vos obligations : elle vous sera opposable "
            f"à compter du {effective}, sans démarche de votre part.",
        ]
    else:
        lines += [
            f"{client.legal_name} n'a pas encore accepté une version antérieure dont celle-ci "
            "reprend les modifications : elle ne vous sera opposable qu'après votre "
            "acceptation (par exemple à la signature de votre prochain contrat).",
        ]
    lines += ["", "-- ", vendor, ""]
    return OutgoingMail(
        to=client.signer_email,
        subject=f"{vendor} : nouvelle version {version.label} de ses conditions générales de vente",
        text="\n".join(lines),
    )


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


def find_acceptance_link(
    session: Session, token: str, now: datetime, *, for_update: bool = False
) -> CgvNotification:
    stmt = select(CgvNotification).where(CgvNotification.link_token_hash == token_hash(token))
    if for_update:
        stmt = stmt.with_for_update(of=CgvNotification)
    notification = session.scalar(stmt)
    if notification is None:
        raise AcceptanceLinkUnknown(
            "Ce lien d'acceptation n'existe pas. Vérifiez l'adresse reçue par courriel."
        )
    if notification.link_used_at is not None:
        when = format_datetime(notification.link_used_at)
        raise AcceptanceLinkGone(
            f"Ce lien a déjà servi : la version {notification.cgv_version.label} a été "
            f"acceptée le {when}."
        )
    refuse_if_accepted(session, notification.client_id, notification.cgv_version)
    if notification.link_expires_at is None or notification.link_expires_at <= now:
        raise AcceptanceLinkGone(
            "Ce lien d'acceptation a expiré. Demandez un nouvel envoi à votre interlocuteur."
        )
    return notification


def accept_through_link(
    session: Session,
    token: str,
    *,
    version_id: int | None,
    shown_sha256: str,
    consent: bool,
    now: datetime,
    ip: str | None,
    user_agent: str | None,
) -> CgvAcceptance:
    """The click-through acceptance: the link, the version and the exact text shown must all
    match; the link then cannot serve again."""
    notification = find_acceptance_link(session, token, now, for_update=True)
    version = session.get(CgvVersion, version_id) if version_id is not None else None
    if version is None:
        raise CgvNotFound("Cette version des CGV n'est pas publiée : rien n'a été enregistré.")
    if version.id != notification.cgv_version_id:
        raise AcceptanceRefused(
            "Ce lien ne permet d'accepter que la version "
            f"{notification.cgv_version.label} : rien n'a été enregistré."
        )
    client = session.get(Client, notification.client_id)
    assert client is not None  # foreign key
    return accept_notified(
        session,
        notification,
        version,
        shown_sha256=shown_sha256,
        consent=consent,
        person_name=client.signer_name,
        person_email=notification.email,
        now=now,
        ip=ip,
        user_agent=user_agent,
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
    shown_sha256: str,
    consent: bool,
    person_email: str,
    now: datetime,
    ip: str | None,
    user_agent: str | None,
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
        raise CgvNotFound("Aucune version des CGV n'attend votre acceptation sous ce numéro.")
    if notification.link_used_at is not None:
        when = format_datetime(notification.link_used_at)
        raise AcceptanceLinkGone(
            f"La version {notification.cgv_version.label} a déjà été acceptée le {when}."
        )
    client = session.get(Client, client_id)
    assert client is not None  # foreign key
    return accept_notified(
        session,
        notification,
        notification.cgv_version,
        shown_sha256=shown_sha256,
        consent=consent,
        person_name=client.signer_name,
        person_email=person_email,
        now=now,
        ip=ip,
        user_agent=user_agent,
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
        raise CgvQueryInvalid({"page": f"Page {number} inexistante : de 1 à {page.pages}."})
    rows = session.scalars(
        select(CgvNotification)
        .where(of_version)
        .order_by(CgvNotification.id)
        .offset((number - 1) * per_page)
        .limit(per_page)
    ).all()
    return NotificationPage(rows, number, total, per_page)
