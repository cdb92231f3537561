"""Backup use cases of one transaction each: the run's row (its slot held by a unique key),
which key each blob is encrypted under, and the purge re-applied to a restored database for
the keys destroyed since the backup was taken."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.archive.anonymisation import anonymise_client, anonymise_evidence
from app.archive.services.scrub import referenced_blobs, revision_keys
from app.audit import services as audit
from app.audit.models import AuditChainHead
from app.backup_keys.keyring import Tombstone
from app.backup_keys.services import (
    LEGAL_KINDS,
    PLATFORM_KEY,
    PLATFORM_KINDS,
    client_key,
    legal_key,
)
from app.backups.models import BackupRun, RunState
from app.clients.models import Client
from app.contracts.models import Contract, ContractVersion
from app.documents.models import Document
from app.rendering.french import format_date, format_datetime, plural
from app.signatures.models import SignatureRequest

DUMP_KEY = "base"
ACTOR = "system:backup"


STALE = timedelta(hours=6)
"""A run still `running` after this long was killed: its slot may be taken again."""


def claim(session: Session, slot: str, now: datetime) -> BackupRun | None:
    """The run of `slot`, created now, or taken over from a failed or killed (stale) run of
    that slot; None when another run holds it or already made its backup. The insert (unique
    slot) or the conditional update (row lock) decides between concurrent claimers."""
    try:
        with session.begin_nested():
            run = BackupRun(slot=slot, state=RunState.RUNNING, started_at=now)
            session.add(run)
            session.flush()
        return run
    except IntegrityError:
        pass
    retaken = session.execute(
        update(BackupRun)
        .where(
            BackupRun.slot == slot,
            (BackupRun.state == RunState.FAILED)
            | ((BackupRun.state == RunState.RUNNING) & (BackupRun.started_at < now - STALE)),
        )
        .values(state=RunState.RUNNING, started_at=now, finished_at=None, error=None)
        .execution_options(synchronize_session=False)
    )
    if retaken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.scalar(select(BackupRun).where(BackupRun.slot == slot))


def key_owners(session: Session) -> dict[str, str]:
    """{blob key: id of the key its copy is encrypted under} for every blob a row references
    (the scrub's rule, `referenced_blobs`): a legal document under the key of the year its
    retention ends, a client's document or signature revision under the client's key, the
    rest (journal anchors, documents of no client) under the platform's."""
    owners = dict.fromkeys(referenced_blobs(session), PLATFORM_KEY)
    request_client: dict[int, int] = {
        request_id: client_id
        for request_id, client_id in session.execute(
            select(SignatureRequest.id, Contract.client_id)
            .join(ContractVersion, ContractVersion.id == SignatureRequest.contract_version_id)
            .join(Contract, Contract.id == ContractVersion.contract_id)
        )
    }
    for request_id, keys in revision_keys(session).items():
        client_id = request_client.get(request_id)
        for key in keys:
            if key in owners and client_id is not None:
                owners[key] = client_key(client_id)
    rows = session.execute(
        select(Document.sha256, Document.kind, Document.client_id, Document.retention_until)
        .where(Document.purged_at.is_(None))
        .order_by(Document.id)
    )
    for sha256, kind, client_id, retention_until in rows:
        if kind in LEGAL_KINDS and retention_until is not None:
            owners[sha256] = legal_key(retention_until.year)
        elif kind in PLATFORM_KINDS:
            continue
        elif client_id is not None and not owners[sha256].startswith("legal-"):
            owners[sha256] = client_key(client_id)
    return owners


def journal_head(session: Session) -> dict[str, object]:
    head = session.get(AuditChainHead, 1)
    if head is None:
        return {"event_id": None, "hash": None}
    return {"event_id": head.last_event_id, "hash": head.last_hash}


def schema_revision(session: Session) -> str | None:
    return session.execute(text("SELECT version_num FROM alembic_version")).scalar()


@dataclass(frozen=True)
class Done:
    name: str
    blobs: int
    copied: int
    copied_bytes: int
    manifest_sha256: str


def finish(session: Session, run_id: int, done: Done, now: datetime) -> None:
    run = session.get(BackupRun, run_id)
    assert run is not None
    run.state, run.finished_at, run.name = RunState.DONE, now, done.name
    run.blobs, run.copied, run.copied_bytes = done.blobs, done.copied, done.copied_bytes
    audit.record(
        session,
        now=now,
        actor=ACTOR,
        action="backup.completed",
        subject_type="backup",
        subject_id=done.name,
        details={
            "manifest_sha256": done.manifest_sha256,
            "blobs": done.blobs,
            "copied": done.copied,
            "copied_bytes": done.copied_bytes,
        },
    )


def fail(session: Session, run_id: int, error: str, now: datetime) -> None:
    run = session.get(BackupRun, run_id)
    assert run is not None
    run.state, run.finished_at, run.error = RunState.FAILED, now, error[:2000]


def lateness(session: Session, now: datetime, interval_hours: int) -> str | None:
    """Why the backups are late (a French sentence), or None: the newest success is older than
    the interval plus an hour, and no run started within the interval is still going."""
    grace = timedelta(hours=interval_hours + 1)
    finished = session.scalar(
        select(func.max(BackupRun.finished_at)).where(BackupRun.state == RunState.DONE)
    )
    if finished is not None and now - finished <= grace:
        return None
    going = session.scalar(
        select(func.count())
        .select_from(BackupRun)
        .where(
            BackupRun.state == RunState.RUNNING,
            BackupRun.started_at > now - timedelta(hours=interval_hours),
        )
    )
    if going:
        return None
    since = (
        "jamais réussi" if finished is None else f"dernière réussie le {format_datetime(finished)}"
    )
    return f"sauvegarde en retard : {since} (intervalle {interval_hours} h)"


def reapply_purges(
    session: Session, destroyed: Mapping[str, Tombstone], *, now: datetime
) -> list[str]:
    """In a restored database, what the purge did after the backup was taken and the keyring
    remembers (a destroyed client key): the client's documents marked purged as of the key's
    destruction, its contact and evidence anonymised, each step journaled. Returns one French
    line per client."""
    lines: list[str] = []
    for key_id, tombstone in sorted(destroyed.items()):
        if key_id.startswith("legal-"):
            lines += _reapply_legal(session, key_id, tombstone, now=now)
            continue
        if not key_id.startswith("client-"):
            continue
        client = session.get(Client, int(key_id.removeprefix("client-")))
        if client is None:
            continue
        documents = session.scalars(
            select(Document).where(
                Document.client_id == client.id,
                Document.purged_at.is_(None),
                Document.kind.not_in(LEGAL_KINDS + PLATFORM_KINDS),
            )
        ).all()
        for document in documents:
            document.purged_at = tombstone.destroyed_at
        if client.anonymised_at is None:
            anonymise_client(session, client, now=now, actor=ACTOR)
        else:
            anonymise_evidence(session, client.id)
        audit.record_about_client(
            session,
            client.id,
            now=now,
            actor=ACTOR,
            action="backup.purge_reapplied",
            details={
                "key": key_id,
                "destroyed_at": tombstone.destroyed_at.isoformat(),
                "reason": tombstone.reason,
                "documents": [d.id for d in documents],
            },
        )
        lines.append(
            f"client n° {client.id} : purgé le {format_date(tombstone.destroyed_at)} "
            f"(journal : {tombstone.reason}) ; "
            f"{plural(len(documents), 'document non restauré', 'documents non restaurés')}"
        )
    return lines


def _reapply_legal(
    session: Session, key_id: str, tombstone: Tombstone, *, now: datetime
) -> list[str]:
    """Invoices and credit notes whose legal retention ended in the key's year: purged."""
    year = int(key_id.removeprefix("legal-"))
    documents = session.scalars(
        select(Document).where(
            Document.kind.in_(LEGAL_KINDS),
            Document.purged_at.is_(None),
            Document.retention_until >= date(year, 1, 1),
            Document.retention_until <= date(year, 12, 31),
        )
    ).all()
    for document in documents:
        document.purged_at = tombstone.destroyed_at
    audit.record(
        session,
        now=now,
        actor=ACTOR,
        action="backup.purge_reapplied",
        subject_type="backup_key",
        subject_id=key_id,
        details={
            "key": key_id,
            "destroyed_at": tombstone.destroyed_at.isoformat(),
            "reason": tombstone.reason,
            "documents": [d.id for d in documents],
        },
    )
    return [
        f"pièces comptables dont la conservation a pris fin en {year} : purgées le "
        f"{format_date(tombstone.destroyed_at)} (journal : {tombstone.reason}) ; "
        f"{plural(len(documents), 'document non restauré', 'documents non restaurés')}"
    ]
