"""`paraphe backup prune`: the backups the retention rule no longer keeps are removed (manifest
first, so a backup never half-exists), then every copy at the target that no kept manifest
names. A copy a kept backup references is never deleted, whatever backup first wrote it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.backups.manifest import Manifest
from app.backups.retention import kept
from app.backups.target import MANIFEST_SUFFIX, SEAL_SUFFIX
from app.backups.workflow import target_of
from app.runtime import Collaborators


@dataclass(frozen=True)
class PruneOutcome:
    kept: list[str]
    removed: list[str]
    deleted_copies: int


def prune(collab: Collaborators, url: str | None = None) -> PruneOutcome:
    settings = collab.settings.backup
    target = target_of(collab, url)
    manifests: dict[str, Manifest] = {}
    for name in target.manifests.names():
        if name.endswith(MANIFEST_SUFFIX) and not name.endswith(SEAL_SUFFIX):
            raw = target.manifests.read(name)
            if raw is not None:
                manifests[name[: -len(MANIFEST_SUFFIX)]] = Manifest.from_json(raw)
    dates: dict[str, datetime] = {n: m.created_at for n, m in manifests.items()}
    keep = kept(
        dates, daily=settings.keep_daily, weekly=settings.keep_weekly, monthly=settings.keep_monthly
    )
    removed = sorted(set(manifests) - keep)
    for name in removed:
        target.manifests.delete(name + MANIFEST_SUFFIX)
        target.manifests.delete(name + SEAL_SUFFIX)
    referenced = {manifests[n].dump.stored for n in keep}
    for name in keep:
        referenced.update(copy.stored for copy in manifests[name].blobs.values())
    deleted = 0
    if manifests:
        # With no manifest at all, the copies may belong to a backup being written: left alone.
        for key in list(target.blobs.iter_keys()):
            if key not in referenced and target.blobs.delete(key):
                deleted += 1
    return PruneOutcome(sorted(keep), removed, deleted)
