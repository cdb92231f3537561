"""Appending to the hash-chained journal, and verifying the chain.

Anchoring its head elsewhere, so that a rewrite of the whole chain is caught too, is in
`app.audit.anchoring` (a timestamping authority) and `app.audit.sealing` (a sealed blob in the
store, without one)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.models import AuditChainHead, AuditEvent
from app.audit.rules import GENESIS_HASH, canonical_details, event_hash
from app.rendering.french import plural


def record(
    session: Session,
    *,
    now: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: object,
    client_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (it lands or vanishes with the change it
    describes). The head row lock serialises concurrent appenders on PostgreSQL."""
    stmt = select(AuditChainHead).where(AuditChainHead.id == 1).with_for_update()
    head = session.execute(stmt).scalar_one_or_none()
    if head is None:
        try:
            with session.begin_nested():
                session.add(AuditChainHead(id=1, last_event_id=None, last_hash=GENESIS_HASH))
        except IntegrityError:
            pass  # another writer created it first; lock theirs below
        head = session.execute(stmt).scalar_one()
    event_id = (head.last_event_id or 0) + 1
    text = canonical_details(details)
    # Normalised to UTC: the verifier reads UTC back, and must hash the same text.
    at = now.astimezone(UTC)
    event = AuditEvent(
        id=event_id,
        at=at,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        client_id=client_id,
        details=text,
        prev_hash=head.last_hash,
    )
    # Hashed from the row as stored: what verify_chain recomputes is what was chained.
    event.hash = stored_event_hash(event)
    session.add(event)
    head.last_event_id = event_id
    head.last_hash = event.hash
    session.flush()
    return event


class Filed(Protocol):
    """A row filed under a client (a document, an invoice, a billing contact...)."""

    @property
    def id(self) -> int: ...

    @property
    def client_id(self) -> int | None: ...


def record_about(
    session: Session,
    subject_type: str,
    subject: Filed,
    *,
    now: datetime,
    actor: str,
    action: str,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """`record` about a row filed under a client: the subject's id and its client come from the
    one row, so an entry can never name one row and file it under another row's client."""
    return record(
        session,
        now=now,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject.id,
        client_id=subject.client_id,
        details=details,
    )


def record_about_client(
    session: Session,
    client_id: int,
    *,
    now: datetime,
    actor: str,
    action: str,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """`record` about a client itself, filed under that client."""
    return record(
        session,
        now=now,
        actor=actor,
        action=action,
        subject_type="client",
        subject_id=client_id,
        client_id=client_id,
        details=details,
    )


def stored_event_hash(ev: AuditEvent) -> str:
    """The hash an event's stored fields (its `prev_hash` included) chain to."""
    return event_hash(
        prev_hash=ev.prev_hash,
        event_id=ev.id,
        at=ev.at,
        actor=ev.actor,
        action=ev.action,
        subject_type=ev.subject_type,
        subject_id=ev.subject_id,
        client_id=ev.client_id,
        details=ev.details,
    )


@dataclass(frozen=True)
class ChainProblem:
    event_id: int | None
    message: str


def count_events(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def verify_chain(session: Session) -> list[ChainProblem]:
    """Recompute every hash in order; report the first place each kind of break appears."""
    problems: list[ChainProblem] = []
    prev_hash = GENESIS_HASH
    expected_id = 1
    events: Sequence[AuditEvent] = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    for ev in events:
        if ev.id != expected_id:
            problems.append(
                ChainProblem(
                    ev.id,
                    f"{plural(ev.id - expected_id, 'événement manquant', 'événements manquants')}"
                    f" avant le n° {ev.id} (attendu n° {expected_id})",
                )
            )
        if ev.prev_hash != prev_hash:
            problems.append(ChainProblem(ev.id, f"chaînage rompu au n° {ev.id}"))
        if stored_event_hash(ev) != ev.hash:
            problems.append(ChainProblem(ev.id, f"contenu altéré au n° {ev.id}"))
        prev_hash = ev.hash
        expected_id = ev.id + 1
    head = session.get(AuditChainHead, 1)
    count = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    if head is not None and (head.last_hash != prev_hash or (head.last_event_id or 0) != count):
        problems.append(ChainProblem(head.last_event_id, "fin du journal supprimée ou modifiée"))
    return problems


def events_for(session: Session, *, client_id: int) -> Sequence[AuditEvent]:
    return session.scalars(
        select(AuditEvent).where(AuditEvent.client_id == client_id).order_by(AuditEvent.id)
    ).all()
