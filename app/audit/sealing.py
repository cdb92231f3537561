"""Sealed anchors in the blob store, for instances without a timestamping authority.

Without a TSA, the database alone cannot prove its journal whole: whoever can rewrite it can
delete its last events and the chain head with them. `seal_head` writes the head (event id and
hash) into the blob store as a new blob, sealed with the platform key. Blobs are content-
addressed and never rewritten, and the database holds nothing that could forge a seal: an
anchor outlives any rewrite of the journal, which `verify_sealed_anchors` then detects.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditChainHead, AuditEvent
from app.audit.services import record
from signing import SigningKey, seal_detached, verify_detached
from storage import BlobNotFound, BlobStore, StorageError

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
