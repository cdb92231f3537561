"""CGV acceptances (append-only) and opposability: which version binds a client on a date."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.audit import services as audit
from app.clients.models import Client
from app.clock import PARIS, business_date
from app.events import recording as events
from app.events.recording import Resource
from app.messages import msg
from app.terms import rules
from app.terms.errors import AcceptanceLinkGone, AcceptanceRefused, ConsentMissing
from app.terms.models import AcceptanceMethod, CgvAcceptance, CgvNotification, CgvVersion


def record_acceptance(
    session: Session,
    *,
    client_id: int,
    version: CgvVersion,
    shown_sha256: str,
    person_name: str,
    person_email: str,
    method: AcceptanceMethod,
    now: datetime,
    ip: str | None,
    user_agent: str | None,
    contract_version_id: int | None = None,
    signature_request_id: int | None = None,
    actor: str,
) -> CgvAcceptance:
    if shown_sha256 != version.sha256:
        raise AcceptanceRefused(
            msg("Le texte présenté ne correspond pas à la version publiée (empreinte différente).")
        )
    acceptance = CgvAcceptance(
        client_id=client_id,
        cgv_version_id=version.id,
        cgv_version=version,
        person_name=person_name,
        person_email=person_email,
        text_sha256=shown_sha256,
        method=method,
        accepted_at=now,
        ip=ip,
        user_agent=(user_agent or "")[:500] or None,
        contract_version_id=contract_version_id,
        signature_request_id=signature_request_id,
    )
    session.add(acceptance)
    session.flush()
    audit.record_about(
        session,
        "cgv_acceptance",
        acceptance,
        now=now,
        actor=actor,
        action="cgv.accepted",
        details={"version": version.label, "sha256": shown_sha256, "method": method.value},
    )
    events.record(
        session,
        "cgv.accepted",
        Resource("cgv_acceptance", acceptance.id, f"/api/v1/clients/{client_id}/cgv-acceptances"),
        {
            "client_id": client_id,
            "cgv_version": {
                "id": version.id,
                "label": version.label,
                "links": {"api": f"/api/v1/cgv-versions/{version.id}"},
            },
            "method": method.value,
            "accepted_at": now.isoformat(),
        },
        now=now,
    )
    return acceptance


@dataclass(frozen=True)
class ClickThrough:
    """What a click-through acceptance page sends back, whichever page it is (the mailed link,
    the client's space): the digest of the text it showed, the box ticked or not, and where
    the click came from. The evidence is made of it, so it travels whole."""

    shown_sha256: str
    consent: bool
    ip: str | None
    user_agent: str | None


def accept_notified(
    session: Session,
    notification: CgvNotification,
    version: CgvVersion,
    click: ClickThrough,
    *,
    person_email: str,
    now: datetime,
) -> CgvAcceptance:
    """The click-through acceptance of the version a notification mailed, from its link or
    from the client's space: one path, one kind of evidence, given in the name of the
    client's signer by `person_email`; the notification is spent."""
    refuse_if_accepted(session, notification.client_id, version)
    if not click.consent:
        raise ConsentMissing(msg("Cochez la case pour accepter cette version des CGV."))
    client = session.get(Client, notification.client_id)
    assert client is not None  # foreign key
    acceptance = record_acceptance(
        session,
        client_id=notification.client_id,
        version=version,
        shown_sha256=click.shown_sha256,
        person_name=client.signer_name,
        person_email=person_email,
        method=AcceptanceMethod.CLICK_THROUGH,
        now=now,
        ip=click.ip,
        user_agent=click.user_agent,
        actor=f"client:{notification.client_id}",
    )
    notification.link_used_at = now
    return acceptance


def refuse_if_accepted(session: Session, client_id: int, version: CgvVersion) -> None:
    """A version the client already accepted otherwise (by signing a contract that carried
    it, or an earlier click) is not offered again: its mailed link and its space say when."""
    first = session.scalar(
        select(CgvAcceptance.accepted_at)
        .where(CgvAcceptance.client_id == client_id, CgvAcceptance.cgv_version_id == version.id)
        .order_by(CgvAcceptance.accepted_at)
        .limit(1)
    )
    if first is not None:
        raise AcceptanceLinkGone(
            msg(
                "La version {version_label} des CGV est déjà acceptée le "
                "{accepted_at:%d/%m/%Y} : il n'y a plus rien à faire.",
                version_label=version.label,
                accepted_at=first.astimezone(PARIS),
            )
        )


def acceptances_of(session: Session, client_id: int) -> Sequence[CgvAcceptance]:
    return _in_order_given(session, CgvAcceptance.client_id == client_id)


def acceptances_of_version(session: Session, version_id: int) -> Sequence[CgvAcceptance]:
    return _in_order_given(session, CgvAcceptance.cgv_version_id == version_id)


def _in_order_given(session: Session, which: ColumnElement[bool]) -> Sequence[CgvAcceptance]:
    """The acceptances `which` selects, oldest first (the id orders two given at once)."""
    return session.scalars(
        select(CgvAcceptance).where(which).order_by(CgvAcceptance.accepted_at, CgvAcceptance.id)
    ).all()


def version_facts(session: Session) -> list[rules.VersionFacts]:
    return [
        rules.VersionFacts(id=v.id, label=v.label, kind=v.kind, effective_date=v.effective_date)
        for v in session.scalars(select(CgvVersion))
    ]


def client_facts(session: Session, client_ids: Iterable[int]) -> dict[int, rules.ClientFacts]:
    """Acceptances and sent notifications of these clients, as business dates (Paris)."""
    ids = list(client_ids)
    accepted: dict[int, dict[int, list[date]]] = {i: {} for i in ids}
    notified: dict[int, dict[int, date]] = {i: {} for i in ids}
    if ids:
        rows = session.execute(
            select(
                CgvAcceptance.client_id, CgvAcceptance.cgv_version_id, CgvAcceptance.accepted_at
            ).where(CgvAcceptance.client_id.in_(ids))
        )
        for client_id, version_id, at in rows:
            accepted[client_id].setdefault(version_id, []).append(business_date(at))
        rows = session.execute(
            select(
                CgvNotification.client_id, CgvNotification.cgv_version_id, CgvNotification.sent_at
            ).where(CgvNotification.client_id.in_(ids), CgvNotification.sent_at.is_not(None))
        )
        for client_id, version_id, at in rows:
            notified[client_id][version_id] = business_date(at)
    return {i: rules.ClientFacts(accepted_on=accepted[i], notified_on=notified[i]) for i in ids}


@dataclass(frozen=True)
class Opposable:
    client_id: int
    at: date
    version: CgvVersion | None
    reason: str

    @property
    def accepted(self) -> bool:
        """Bound because the client accepted it (not as a minor version notified to it)."""
        return self.reason == rules.ACCEPTED_REASON


def opposable_for(session: Session, client_id: int, at: date) -> Opposable:
    """The CGV version that binds the client on `at` (see app.terms.rules)."""
    facts = client_facts(session, [client_id])[client_id]
    found, reason = rules.how_bound(version_facts(session), facts, at)
    version = session.get(CgvVersion, found.id) if found is not None else None
    return Opposable(client_id=client_id, at=at, version=version, reason=reason)


def is_client_behind(session: Session, client_id: int, version: CgvVersion, at: date) -> bool:
    """True when the version binding the client on `at` is older than `version` (e.g. the
    one pinned in a contract): signing it will make the client accept a newer text."""
    facts = version_facts(session)
    found = rules.opposable_version(facts, client_facts(session, [client_id])[client_id], at)
    target = next(v for v in facts if v.id == version.id)
    return rules.is_older(found, target)
