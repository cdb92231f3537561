"""Contract generations set up as the sales pages leave them, and the blob store that makes
their renders crash: what the generation tests (jobs, failures, retries) start from."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.auth.models import Role
from app.contracts import requested
from app.contracts.models import ContractGeneration, GenerationStatus
from app.db import utcnow
from storage import BlobRef, FilesystemBlobStore
from tests.factories import crm_writer, login_as, quote_ready_for_contract, runtime
from tests.factories.db import session_of
from tests.factories.drafts import first_version_asked
from tests.integration.helpers import user_id_of

SALES = "sales@example.test"  # the user `login_as(app, Role.SALES)` creates


class FullDisk(FilesystemBlobStore):
    """The archive refuses every new blob: each render crashes when it stores its PDF."""

    def put(self, data: bytes) -> BlobRef:
        raise OSError(28, "No space left on device")


def generation_row(app: Flask, generation_id: int) -> ContractGeneration:
    """The generation's row as committed now (detached: read its columns only)."""
    with session_of(app) as session:
        return session.get_one(ContractGeneration, generation_id)


def generations(app: Flask) -> list[ContractGeneration]:
    """Every generation's row as committed now, oldest first (detached: read their columns)."""
    with session_of(app) as session:
        return list(session.scalars(select(ContractGeneration).order_by(ContractGeneration.id)))


def use_store(app: Flask, store: type[FilesystemBlobStore]) -> None:
    """The application's blobs, from now on, through a `store` on its storage folder (the
    disk full, then freed)."""
    rt = runtime(app)
    app.extensions["paraphe"] = replace(rt, store=store(rt.settings.storage_dir))


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


@dataclass(frozen=True)
class Asked:
    """A first version asked from a quote's page, its job not run yet."""

    sales: FlaskClient
    """The browser of the salesperson who asked."""
    quote_id: int
    author_id: int
    generation_id: int


def asked_by_sales(app: Flask, *, free_text: str = "") -> Asked:
    """The CGV in force published, a client's quote, and its contract asked by a salesperson."""
    quote_id = quote_ready_for_contract(app)
    sales = login_as(app, Role.SALES)
    author_id = user_id_of(app, SALES)
    generation_id = first_version_asked(app, quote_id, author_id, free_text=free_text)
    return Asked(sales, quote_id, author_id, generation_id)


def asked_through_the_api(app: Flask, body: dict[str, Any]) -> int:
    """The CGV in force published, a client's quote, and its contract asked by a CRM with
    `body` while the disk is full (inline, its job crashes in the request: a failed run;
    queued, it waits for a worker): still pending, 202. The generation's id."""
    quote_id = quote_ready_for_contract(app)
    writer = crm_writer(app)
    use_store(app, FullDisk)
    asked = app.test_client().post(f"/api/v1/quotes/{quote_id}/contract", json=body, headers=writer)
    assert asked.status_code == 202, asked.get_json()
    assert asked.get_json()["status"] == "pending"
    generation_id: int = asked.get_json()["id"]
    return generation_id
