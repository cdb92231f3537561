"""`paraphe backup` and its periodic job: one run per slot, the dump and the blob list read in
one snapshot, each blob copied (encrypted under its owner's key) only when the target lacks
it, then the sealed manifest written last and the run journaled."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.backup_keys import keyring
from app.backup_keys.services import PLATFORM_KEY, keyring_file, register_keys
from app.backups import dumps, services
from app.backups.encryption import encrypt, encrypt_stream
from app.backups.manifest import Copy, Manifest
from app.backups.target import MANIFEST_SUFFIX, SEAL_SUFFIX, BackupTarget, open_target
from app.db import transaction
from app.rendering.french import plural
from app.runtime import Collaborators
from signing import seal_detached


@dataclass(frozen=True)
class BackupOutcome:
    done: services.Done | None  # None: another run holds the slot

    @property
    def message(self) -> str:
        if self.done is None:
            return "Sauvegarde déjà faite ou en cours pour cette période : rien à faire."
        d = self.done
        return (
            f"Sauvegarde {d.name} terminée : {plural(d.blobs, 'document', 'documents')}, "
            f"{plural(d.copied, 'copié', 'copiés')} ({plural(d.copied_bytes, 'octet', 'octets')}), "
            "les autres déjà présents à la cible."
        )


class BackupFailed(Exception):
    """The backup did not complete; the previous backups are untouched."""


def target_of(collab: Collaborators, url: str | None = None) -> BackupTarget:
    settings = collab.settings
    chosen = url or settings.backup.url
    if chosen is None:
        raise BackupFailed("aucune cible de sauvegarde (PARAPHE_BACKUP_URL)")
    return open_target(chosen, endpoint_url=settings.s3_endpoint_url, region=settings.s3_region)


def slot_of(now: datetime, interval_hours: int) -> str:
    """The periodic slot `now` falls in: every job started in one interval shares it."""
    index = int(now.timestamp()) // (interval_hours * 3600)
    return f"periode-{interval_hours}h-{index}"


def latest_manifest(target: BackupTarget) -> Manifest | None:
    """The newest manifest at the target (for reuse of its copies; not trusted further: each
    reused copy is checked to exist, and the restore checks the seal and every hash)."""
    for name in reversed(target.manifests.names()):
        if name.endswith(MANIFEST_SUFFIX) and not name.endswith(SEAL_SUFFIX):
            raw = target.manifests.read(name)
            if raw is not None:
                try:
                    return Manifest.from_json(raw)
                except (ValueError, KeyError, TypeError):
                    continue
    return None


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as reader:
        while chunk := reader.read(1024 * 1024):
            yield chunk


def _store_dump(target: BackupTarget, path: Path, key: bytes | None) -> tuple[str, Copy]:
    """The dump's hash, and its copy at the target, streamed (a PostgreSQL dump may be larger
    than memory): as is, or encrypted chunk by chunk under PARAPHE_BACKUP_KEY when one is set.
    The hash is read first: it names the copy and derives the chunks' nonces."""
    digest = hashlib.sha256()
    for chunk in _chunks(path):
        digest.update(chunk)
    sha256, size = digest.hexdigest(), path.stat().st_size
    if key is None:
        return sha256, Copy(target.blobs.put_stream(_chunks(path)).sha256, size, None)
    stored = encrypt_stream(key, services.DUMP_KEY, sha256, _chunks(path))
    return sha256, Copy(target.blobs.put_stream(stored).sha256, size, services.DUMP_KEY)


def _copy_blobs(
    collab: Collaborators,
    target: BackupTarget,
    owners: dict[str, str],
    ring: keyring.Keyring,
    previous: Manifest | None,
    present: set[str],
) -> tuple[dict[str, Copy], int, int]:
    """Each blob's copy: reused from the previous manifest when the target still has it under
    the same key, else encrypted and written. Returns the copies, how many were written and
    their bytes."""
    blobs: dict[str, Copy] = {}
    copied = copied_bytes = 0
    for sha256, key_id in sorted(owners.items()):
        key = ring.keys.get(key_id)
        if key is None:
            continue  # key destroyed: the client was purged; nothing of it is copied again
        reused = previous.blobs.get(sha256) if previous else None
        if reused and reused.key_id == key_id and reused.stored in present:
            blobs[sha256] = reused
            continue
        data = collab.store.get(sha256)
        ref = target.blobs.put(encrypt(key, key_id, sha256, data))
        blobs[sha256] = Copy(stored=ref.sha256, size=len(data), key_id=key_id)
        copied += 1
        copied_bytes += ref.size
    return blobs, copied, copied_bytes


def backup(collab: Collaborators, *, slot: str, url: str | None = None) -> BackupOutcome:
    with transaction(collab.session_factory) as session:
        run = services.claim(session, slot, collab.now)
        run_id = None if run is None else run.id
    if run_id is None:
        return BackupOutcome(None)
    try:
        done = _backup(collab, url)
    except Exception as exc:
        with transaction(collab.session_factory) as session:
            services.fail(session, run_id, f"{type(exc).__name__}: {exc}", collab.now)
        raise BackupFailed(f"sauvegarde en échec : {exc}") from exc
    with transaction(collab.session_factory) as session:
        services.finish(session, run_id, done, collab.now)
    return BackupOutcome(done)


def _backup(collab: Collaborators, url: str | None) -> services.Done:
    settings = collab.settings
    target = target_of(collab, url)
    keyring_path = keyring_file(settings)
    now = collab.now.astimezone(UTC)
    name = now.strftime("%Y%m%dT%H%M%S%fZ")
    previous = latest_manifest(target)
    with tempfile.TemporaryDirectory(prefix="paraphe-backup-") as work:
        dump_path = Path(work) / "base.dump"
        # Everything up to the dump's own copy happens while pg_dump writes it.
        with dumps.snapshot(settings.database_url, dump_path) as snap:
            owners = services.key_owners(snap)
            head = services.journal_head(snap)
            revision = services.schema_revision(snap)
            ring = keyring.ensure(keyring_path, set(owners.values()) | {PLATFORM_KEY})
            # One listing of the target (a directory walk, or S3 list pages of 1,000) rather
            # than a stat or a HEAD request per reused copy.
            present = set(target.blobs.iter_keys()) if previous else set()
            blobs, copied, copied_bytes = _copy_blobs(
                collab, target, owners, ring, previous, present
            )
        dump_sha256, dump = _store_dump(target, dump_path, settings.backup.dump_key)
    copied_bytes += dump.size
    manifest = Manifest(
        name=name,
        created_at=now,
        database=settings.database_backend,
        schema_revision=revision,
        dump_sha256=dump_sha256,
        dump=dump,
        journal_head=head,
        blobs=blobs,
    )
    body = manifest.to_json()
    seal = seal_detached(body, collab.signing_key(), now)
    # The seal first, the manifest last: the manifest's appearance is the backup's commit.
    target.manifests.write(name + SEAL_SUFFIX, seal)
    target.manifests.write(name + MANIFEST_SUFFIX, body)
    with transaction(collab.session_factory) as session:
        register_keys(session, {c.key_id for c in blobs.values() if c.key_id}, now)
    return services.Done(
        name=name,
        blobs=len(blobs),
        copied=copied,
        copied_bytes=copied_bytes,
        manifest_sha256=hashlib.sha256(body).hexdigest(),
    )
