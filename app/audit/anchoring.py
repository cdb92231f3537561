"""Anchoring the journal with a timestamping authority (RFC 3161): the head's hash
timestamped and the token kept, then every token checked against the journal."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditAnchor, AuditChainHead, AuditEvent
from app.audit.services import record
from signing import TimestampTokenReport, verify_timestamp_token


class AnchorRefused(Exception):
    """The TSA answered with a token that does not prove what was asked (nothing is stored)."""


def anchor_head(
    session: Session,
    *,
    timestamp: Callable[[bytes], bytes],
    tsa_url: str,
    trust_roots: Sequence[bytes],
    now: datetime,
) -> AuditAnchor | None:
    """Timestamp the journal's current head: `timestamp(digest)` returns an RFC 3161 token
    whose message imprint is the head event's hash. The token is checked before it is kept.
    None when there is nothing new to anchor (empty journal, head already anchored), so a
    periodic run costs no TSA request while the journal does not move.

    The head is read without its lock: the TSA round trip must not stall every writer, and
    anchoring the event read is what is wanted even if others were appended meanwhile."""
    head = session.get(AuditChainHead, 1)
    if head is None or head.last_event_id is None:
        return None
    latest = session.scalar(select(AuditAnchor).order_by(AuditAnchor.id.desc()).limit(1))
    if latest is not None:
        if latest.head_hash == head.last_hash:
            return None
        head_event = session.get(AuditEvent, head.last_event_id)
        if (
            head_event is not None
            and head_event.action == ANCHORED
            and head_event.subject_id == str(latest.id)
        ):
            return None  # only the record of the last anchor came since: nothing new
    event_id, head_hash = head.last_event_id, head.last_hash
    token = timestamp(bytes.fromhex(head_hash))
    report = verify_timestamp_token(token, bytes.fromhex(head_hash), trust_roots)
    if not report.ok or report.gen_time is None:
        raise AnchorRefused(f"jeton d'horodatage refusé : {report.problem}")
    anchor = AuditAnchor(
        event_id=event_id,
        head_hash=head_hash,
        timestamped_at=report.gen_time,
        tsa_url=tsa_url,
        token=token,
        created_at=now,
    )
    session.add(anchor)
    session.flush()
    # The anchor is itself journaled: deleting its row (the evidence) then breaks the
    # journal's promise, which verify_anchor_records reports.
    record(
        session,
        now=now,
        actor="system",
        action=ANCHORED,
        subject_type="audit_anchor",
        subject_id=anchor.id,
        details={
            "event": event_id,
            "hash": head_hash,
            "token_sha256": hashlib.sha256(token).hexdigest(),
        },
    )
    return anchor


ANCHORED = "audit.anchored"


def verify_anchor_records(session: Session) -> list[str]:
    """Every anchor the journal says was taken is still stored, with the same token: the
    problems, one sentence each (empty when all are there)."""
    problems: list[str] = []
    for event in session.scalars(
        select(AuditEvent).where(AuditEvent.action == ANCHORED).order_by(AuditEvent.id)
    ):
        details = json.loads(event.details) if event.details else {}
        anchor = session.get(AuditAnchor, int(event.subject_id))
        if anchor is None:
            problems.append(
                f"l'horodatage n° {event.subject_id} (événement n° {event.id} du journal) "
                "a été supprimé"
            )
        elif hashlib.sha256(anchor.token).hexdigest() != details.get("token_sha256"):
            problems.append(
                f"l'horodatage n° {event.subject_id} n'a plus le jeton journalisé "
                f"(événement n° {event.id})"
            )
    return problems


@dataclass(frozen=True)
class AnchorCheck:
    anchor_id: int
    event_id: int
    timestamped_at: datetime
    report: TimestampTokenReport
    problem: str | None


def verify_anchors(session: Session, trust_roots: Sequence[bytes]) -> list[AnchorCheck]:
    """Check every stored timestamp: its token is a valid TSA signature over the hash it
    anchors, and the anchored event still has that hash (a journal rewritten after it was
    timestamped, hashes recomputed and all, no longer has it)."""
    checks: list[AnchorCheck] = []
    for anchor in session.scalars(select(AuditAnchor).order_by(AuditAnchor.id)):
        report = verify_timestamp_token(anchor.token, bytes.fromhex(anchor.head_hash), trust_roots)
        event_hash_now = session.scalar(
            select(AuditEvent.hash).where(AuditEvent.id == anchor.event_id)
        )
        problem = None
        if not report.ok:
            problem = f"jeton invalide ({report.problem})"
        elif report.gen_time != anchor.timestamped_at:
            problem = "date enregistrée différente de celle du jeton"
        elif event_hash_now is None:
            problem = f"l'événement n° {anchor.event_id} horodaté a disparu du journal"
        elif event_hash_now != anchor.head_hash:
            problem = (
                f"l'événement n° {anchor.event_id} n'a plus l'empreinte horodatée "
                "(journal réécrit après l'horodatage)"
            )
        checks.append(
            AnchorCheck(anchor.id, anchor.event_id, anchor.timestamped_at, report, problem)
        )
    return checks
