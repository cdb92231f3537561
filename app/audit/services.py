"""Appending to and verifying the hash-chained journal."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.models import AuditAnchor, AuditChainHead, AuditEvent
from app.audit.rules import GENESIS_HASH, canonical_details, event_hash
from signing import (
    SigningKey,
    TimestampTokenReport,
    seal_detached,
    verify_detached,
    verify_timestamp_token,
)
from storage import BlobNotFound, BlobStore, StorageError


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
                    f"événement(s) manquant(s) avant le n° {ev.id} (attendu n° {expected_id})",
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


# -- Sealed anchors in the blob store (no TSA) ---------------------------------------------------
#
# Without a TSA, the database alone cannot prove its journal whole: whoever can rewrite it can
# delete its last events and the chain head with them. `seal_head` writes the head (event id and
# hash) into the blob store as a new blob, sealed with the platform key. Blobs are content-
# addressed and never rewritten, and the database holds nothing that could forge a seal: an
# anchor outlives any rewrite of the journal, which `verify_sealed_anchors` then detects.

SEALED_ANCHOR_FORMAT = "paraphe-audit-anchor/1"
# Every sealed anchor blob starts with these bytes: `verify` finds them by reading this much.
SEALED_ANCHOR_MAGIC = b'{"format":"' + SEALED_ANCHOR_FORMAT.encode() + b'"'
SEALED = "audit.anchored_in_store"


@dataclass(frozen=True)
class SealedAnchor:
    blob: str  # the blob's SHA-256 in the store
    event_id: int
    head_hash: str
    anchored_at: datetime


def _anchor_statement(event_id: int, head_hash: str, anchored_at: datetime) -> bytes:
    """The bytes the seal covers (the blob repeats them, in this order, before the seal)."""
    return json.dumps(
        {
            "format": SEALED_ANCHOR_FORMAT,
            "event_id": event_id,
            "head_hash": head_hash,
            "anchored_at": anchored_at.astimezone(UTC).isoformat(timespec="microseconds"),
        },
        separators=(",", ":"),
    ).encode("ascii")


def seal_head(
    session: Session, store: BlobStore, key: SigningKey, *, now: datetime
) -> SealedAnchor | None:
    """Write the journal's head to the blob store, sealed by `key`, and journal that it was
    (the blob's key is then referenced, and a deleted anchor blob is reported). None when there
    is nothing new: empty journal, or only the record of the previous anchor came since.

    The blob is written first: if the transaction then fails, the anchor still states a head
    that existed (it was read committed), so it remains true evidence."""
    head = session.get(AuditChainHead, 1)
    if head is None or head.last_event_id is None:
        return None
    latest = session.scalar(
        select(AuditEvent).where(AuditEvent.action == SEALED).order_by(AuditEvent.id.desc())
    )
    if latest is not None and (
        latest.id == head.last_event_id or json.loads(latest.details).get("hash") == head.last_hash
    ):
        return None
    event_id, head_hash = head.last_event_id, head.last_hash
    statement = _anchor_statement(event_id, head_hash, now)
    seal = seal_detached(statement, key, now)
    blob = statement[:-1] + b',"seal":"' + base64.b64encode(seal) + b'"}'
    ref = store.put(blob)
    record(
        session,
        now=now,
        actor="system",
        action=SEALED,
        subject_type="audit_anchor_blob",
        subject_id=event_id,
        details={"event": event_id, "hash": head_hash, "blob": ref.sha256},
    )
    return SealedAnchor(ref.sha256, event_id, head_hash, now.astimezone(UTC))


def sealed_anchor_blobs(session: Session) -> set[str]:
    """The blob keys of the anchors the journal says were sealed (referenced blobs, for the
    scrub: they belong to no document but are not orphans)."""
    return {
        json.loads(details).get("blob", "")
        for details in session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == SEALED)
        )
    } - {""}


@dataclass(frozen=True)
class SealedAnchorsReport:
    anchors: list[SealedAnchor]  # valid ones, in the order of the events they anchor
    problems: list[str]  # one French sentence each; empty when the journal is whole


def read_sealed_anchors(
    store: BlobStore, trust_roots: Sequence[bytes]
) -> tuple[list[SealedAnchor], list[str]]:
    """Every sealed anchor found in the store whose seal verifies, and one sentence for each
    blob that looks like an anchor but whose seal does not (a forgery, or damage)."""
    anchors: list[SealedAnchor] = []
    problems: list[str] = []
    for key in store.iter_keys():
        try:
            with store.open(key) as reader:
                if reader.read(len(SEALED_ANCHOR_MAGIC)) != SEALED_ANCHOR_MAGIC:
                    continue
        except BlobNotFound:
            continue  # deleted since it was listed; were it an anchor, its journal record says so
        try:
            blob = store.get(key)
            fields = json.loads(blob)
            statement = _anchor_statement(
                int(fields["event_id"]),
                str(fields["head_hash"]),
                datetime.fromisoformat(fields["anchored_at"]),
            )
            seal = base64.b64decode(fields["seal"], validate=True)
        except (StorageError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"l'ancre scellée {key[:16]}… est illisible ({exc})")
            continue
        anchored_at = datetime.fromisoformat(fields["anchored_at"])
        report = verify_detached(statement, seal, trust_roots, validation_time=anchored_at)
        if not report.ok:
            problems.append(f"l'ancre scellée {key[:16]}… a un sceau invalide ({report.problem})")
            continue
        anchors.append(SealedAnchor(key, int(fields["event_id"]), fields["head_hash"], anchored_at))
    anchors.sort(key=lambda a: (a.event_id, a.anchored_at))
    return anchors, problems


def verify_sealed_anchors(
    session: Session, store: BlobStore, trust_roots: Sequence[bytes]
) -> SealedAnchorsReport:
    """Check the journal against every sealed anchor of the store: each anchored event is still
    there with the anchored hash (deleting the last events, or rewriting them with their hashes
    recomputed, is caught), and each anchor the journal recorded is still in the store."""
    anchors, problems = read_sealed_anchors(store, trust_roots)
    last_id = session.scalar(select(func.max(AuditEvent.id))) or 0
    for anchor in anchors:
        when = anchor.anchored_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        stored = session.scalar(select(AuditEvent.hash).where(AuditEvent.id == anchor.event_id))
        if anchor.event_id > last_id:
            missing = (
                f"l'événement n° {anchor.event_id} manque"
                if anchor.event_id == last_id + 1
                else f"les événements n° {last_id + 1} à {anchor.event_id} manquent"
            )
            problems.append(
                f"journal tronqué : {missing}, alors que l'ancre scellée du {when} "
                f"({anchor.blob[:16]}…) atteste qu'il allait jusqu'au n° {anchor.event_id}"
            )
        elif stored is None:
            problems.append(
                f"l'événement n° {anchor.event_id}, scellé le {when}, a disparu du journal"
            )
        elif stored != anchor.head_hash:
            problems.append(
                f"l'événement n° {anchor.event_id} n'a plus l'empreinte scellée le {when} "
                "(journal réécrit après l'ancrage)"
            )
    found = {anchor.blob for anchor in anchors}
    for event in session.scalars(
        select(AuditEvent).where(AuditEvent.action == SEALED).order_by(AuditEvent.id)
    ):
        blob = json.loads(event.details).get("blob", "")
        if blob not in found and not any(blob[:16] in p for p in problems):
            problems.append(
                f"l'ancre scellée {blob[:16]}… (événement n° {event.id} du journal) "
                "est introuvable dans le stockage"
            )
    return SealedAnchorsReport(anchors, problems)
