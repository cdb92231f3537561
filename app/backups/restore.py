"""`paraphe restore --from …`: a sealed backup loaded into an empty instance. Everything is
checked before anything is written (the manifest's seal, the dump's hash, each copy's hash,
each key); then the database, then the blobs (each decrypted and re-hashed); then the purge
re-applied for the keys destroyed since; then the scrub and the journal's verification.

A backup taken by older code is brought to this code's schema right after its dump is loaded
(the migrations, as `paraphe db upgrade` runs them), before anything reads the restored rows
with today's models; one taken by newer code (a schema revision these migrations do not
know) is refused before anything is written: this code could neither read nor migrate it."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, inspect, select

from app import migrate
from app.archive.services import scrub as scrubbing
from app.archive.services.storage_migration import locks_from_documents
from app.audit import services as audit
from app.audit.models import AuditEvent
from app.audit.sealing import verify_sealed_anchors
from app.backup_keys import keyring
from app.backup_keys.services import keyring_file
from app.backups import dumps, services
from app.backups.encryption import DecryptionFailed, decrypt, decrypt_stream
from app.backups.manifest import Manifest
from app.backups.target import MANIFEST_SUFFIX, SEAL_SUFFIX, BackupTarget
from app.backups.workflow import target_of
from app.db import transaction
from app.documents.models import Document
from app.pki import trust_roots
from app.runtime import Collaborators
from signing import verify_detached
from storage import StorageError


class RestoreRefused(Exception):
    """Nothing was written: the message says why, in French."""


@dataclass
class RestoreReport:
    name: str
    documents: int = 0
    restored_blobs: int = 0
    purged: list[str] = field(default_factory=list)
    scrub: scrubbing.ScrubReport = field(default_factory=scrubbing.ScrubReport)
    journal_events: int = 0
    journal_problems: list[str] = field(default_factory=list)
    # The schema the backup was taken at, and the one it was migrated to (None: the same).
    schema_from: str | None = None
    schema_to: str | None = None

    @property
    def clean(self) -> bool:
        return self.scrub.ok and not self.journal_problems


def restore(collab: Collaborators, source: str, name: str | None = None) -> RestoreReport:
    _refuse_unless_empty(collab)
    target = target_of(collab, source)
    manifest = _verified_manifest(collab, target, name)
    _refuse_newer_schema(manifest)
    ring = keyring.read(keyring_file(collab.settings))
    restorable: dict[str, str] = {}
    report = RestoreReport(manifest.name)
    with tempfile.TemporaryDirectory(prefix="paraphe-restore-") as work:
        dump_path = Path(work) / "base.dump"
        _verified_dump(collab, target, manifest, dump_path)
        _verify_copies(target, manifest, ring, restorable)
        dumps.restore(collab.settings.database_url, dump_path)
    head = migrate.head_revision()
    if manifest.schema_revision != head:
        migrate.upgrade(collab.settings.database_url)
        report.schema_from, report.schema_to = manifest.schema_revision, head
    for sha256, key_id in restorable.items():
        copy = manifest.blobs[sha256]
        try:
            data = decrypt(ring.keys[key_id], key_id, sha256, target.blobs.get(copy.stored))
        except DecryptionFailed:
            raise RestoreRefused(f"le document {sha256} ne se déchiffre pas") from None
        if collab.store.put(data).sha256 != sha256:
            raise RestoreRefused(f"le document {sha256} déchiffré n'a pas son empreinte")
        report.restored_blobs += 1
    with transaction(collab.session_factory) as session:
        report.purged = services.reapply_purges(session, ring.destroyed, now=collab.now)
        locks = locks_from_documents(session)
    # The write-once locks are not in the copies: the restored rows say what each blob needs.
    for sha256, lock in locks.items():
        if sha256 in restorable:
            if lock.retain_until is not None:
                collab.store.retain(sha256, lock.retain_until)
            if lock.legal_hold:
                collab.store.hold(sha256, True)
    with transaction(collab.session_factory) as session:
        referenced = scrubbing.referenced_blobs(session)
        report.documents = session.scalar(select(func.count()).select_from(Document)) or 0
        report.journal_events = audit.count_events(session)
        report.journal_problems = [p.message for p in audit.verify_chain(session)]
        sealed = verify_sealed_anchors(session, collab.store, trust_roots(collab.settings))
        report.journal_problems += sealed.problems
    scrubbing.scrub(collab.store, referenced, collab.store.iter_keys(), report.scrub)
    return report


def _verify_copies(
    target: BackupTarget, manifest: Manifest, ring: keyring.Keyring, restorable: dict[str, str]
) -> None:
    """Every copy whose key still exists is present and intact (its hash re-read at the
    target), filling `restorable` {blob key: key id}; a copy under a destroyed key is left."""
    for sha256, copy in sorted(manifest.blobs.items()):
        if copy.key_id in ring.destroyed:
            continue  # purged since: reported below from the keyring's tombstone and the journal
        if copy.key_id is None or copy.key_id not in ring.keys:
            raise RestoreRefused(
                f"clé « {copy.key_id} » absente du trousseau : le document {sha256} "
                "ne peut pas être déchiffré (trousseau d'une autre instance ?)"
            )
        try:
            target.blobs.verify(copy.stored)
        except StorageError as exc:
            raise RestoreRefused(
                f"copie du document {sha256} altérée ou manquante à la cible "
                f"({copy.stored}) : {exc}"
            ) from None
        restorable[sha256] = copy.key_id


def _refuse_newer_schema(manifest: Manifest) -> None:
    revision = manifest.schema_revision
    if revision is not None and not migrate.is_known(revision):
        raise RestoreRefused(
            f"la sauvegarde {manifest.name} vient d'une version plus récente de Paraphe "
            f"(schéma de base « {revision} », inconnu de celle-ci, qui s'arrête à "
            f"« {migrate.head_revision()} ») : installez la version qui l'a produite, ou une "
            "plus récente, puis relancez la restauration. Rien n'a été écrit."
        )


def _refuse_unless_empty(collab: Collaborators) -> None:
    with collab.session_factory() as session:
        tables = set(inspect(session.connection()).get_table_names())
        rows = 0
        if "audit_events" in tables:
            rows += session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        if "documents" in tables:
            rows += session.scalar(select(func.count()).select_from(Document)) or 0
    if rows or next(iter(collab.store.iter_keys()), None) is not None:
        raise RestoreRefused(
            "l'instance n'est pas vide (base ou stockage des documents "
            "déjà remplis). Restaurez dans une instance neuve : base vide, stockage vide."
        )


def _verified_manifest(collab: Collaborators, target: BackupTarget, name: str | None) -> Manifest:
    names = [
        n[: -len(MANIFEST_SUFFIX)]
        for n in target.manifests.names()
        if n.endswith(MANIFEST_SUFFIX) and not n.endswith(SEAL_SUFFIX)
    ]
    if not names:
        raise RestoreRefused(f"aucune sauvegarde à {target.url}")
    chosen = name or names[-1]
    if chosen not in names:
        raise RestoreRefused(f"sauvegarde {chosen} introuvable à {target.url}")
    body = target.manifests.read(chosen + MANIFEST_SUFFIX) or b""
    seal = target.manifests.read(chosen + SEAL_SUFFIX)
    if seal is None:
        raise RestoreRefused(f"manifeste de la sauvegarde {chosen} sans sceau")
    check = verify_detached(body, seal, trust_roots(collab.settings))
    if not check.ok:
        raise RestoreRefused(
            f"sceau du manifeste de la sauvegarde {chosen} invalide : {check.problem}"
        )
    try:
        return Manifest.from_json(body)
    except (ValueError, KeyError, TypeError) as exc:
        raise RestoreRefused(f"manifeste de la sauvegarde {chosen} illisible : {exc}") from None


def _verified_dump(
    collab: Collaborators, target: BackupTarget, manifest: Manifest, path: Path
) -> None:
    """The dump's copy, checked against the manifest, written to `path`."""
    if manifest.database != collab.settings.database_backend:
        raise RestoreRefused(
            f"sauvegarde d'une base {manifest.database}, instance sur "
            f"{collab.settings.database_backend}"
        )
    digest = hashlib.sha256()
    try:
        key = None
        if manifest.dump.key_id is not None:
            key = collab.settings.backup.dump_key
            if key is None:
                raise RestoreRefused("copie de la base chiffrée : PARAPHE_BACKUP_KEY manque")
        # Streamed: the store's reader re-hashes the copy and raises at its end if altered;
        # an encrypted copy is decrypted chunk by chunk (`decrypt_stream`), so memory stays
        # bounded whatever the database's size.
        with target.blobs.open(manifest.dump.stored) as reader, path.open("wb") as out:
            plain: Iterator[bytes] = iter(lambda: reader.read(1024 * 1024), b"")
            if key is not None and manifest.dump.key_id is not None:
                plain = decrypt_stream(key, manifest.dump.key_id, manifest.dump_sha256, reader)
            try:
                for chunk in plain:
                    digest.update(chunk)
                    out.write(chunk)
            except DecryptionFailed as exc:
                raise RestoreRefused(
                    "copie de la base indéchiffrable : PARAPHE_BACKUP_KEY n'est pas celle de la "
                    f"sauvegarde, ou la copie a été altérée, tronquée ou réordonnée ({exc})"
                ) from None
    except StorageError as exc:
        raise RestoreRefused(f"copie de la base altérée ou manquante : {exc}") from None
    if digest.hexdigest() != manifest.dump_sha256:
        raise RestoreRefused("copie de la base altérée : empreinte différente du manifeste")
