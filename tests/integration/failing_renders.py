"""Contract renders that crash (the disk full), shared by the tests of a failed generation:
the store that refuses every blob, swapping the application's store, and a generation's
renders crashed until it is given up."""

from __future__ import annotations

from dataclasses import replace

from flask import Flask

from app.contracts import requested
from app.contracts.models import ContractGeneration, GenerationStatus
from app.db import utcnow
from storage import BlobRef, FilesystemBlobStore
from tests.factories import runtime
from tests.factories.db import session_of


class FullDisk(FilesystemBlobStore):
    """The archive refuses every new blob: each render crashes when it stores its PDF."""

    def put(self, data: bytes) -> BlobRef:
        raise OSError(28, "No space left on device")


def use_store(app: Flask, store: type[FilesystemBlobStore]) -> None:
    """The application's store (where a render writes its PDF) made a `store` on its folder:
    FullDisk to fill the disk, FilesystemBlobStore to free it."""
    rt = runtime(app)
    app.extensions["paraphe"] = replace(rt, store=store(rt.settings.storage_dir))


def generation_row(app: Flask, generation_id: int) -> ContractGeneration:
    with session_of(app) as session:
        return session.get_one(ContractGeneration, generation_id)


def given_up(app: Flask, generation_id: int) -> None:
    """The generation's renders crash until it is failed (the queue's retries, the sweeps)."""
    rt = runtime(app)
    collab = replace(rt.collaborators(utcnow()), store=FullDisk(rt.settings.storage_dir))
    while generation_row(app, generation_id).status is GenerationStatus.PENDING:
        try:
            requested.fulfil(collab, generation_id)
        except OSError:
            continue
    assert generation_row(app, generation_id).status is GenerationStatus.FAILED
