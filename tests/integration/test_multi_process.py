"""One deployment as several machines run it: two `paraphe serve` and two `paraphe worker`
sharing the database, the blobs, the PKI, the secret key and the queue. A sales user works on
server 1, the signers sign on server 2, whichever worker takes the seal seals it, and the
sealed PDF downloaded from server 1 is valid for pyHanko and for poppler's pdfsig.

On PostgreSQL every process has its own instance folder and the queue is in PostgreSQL; on
SQLite (one machine by nature) they share the instance folder and its SQLite queue. Either way
the test crosses process boundaries for real: sessions signed by one server are read by the
other only through the shared secret, the code mailed by one process is checked by another,
and the seal happens in a third."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask

from app.auth.models import Role
from app.config import Settings
from app.documents.models import Document, DocumentKind
from app.pki import trust_roots
from signing import verify_pdf
from tests.factories import PASSWORD, make_user, publish_short_cgv
from tests.factories.db import count
from tests.factories.signing import completion_mail_texts
from tests.integration.http_journey import Browser, journey
from tests.integration.production_server import serve
from tests.integration.sealed_pdf import assert_sealed_contract, assert_valid_for_pdfsig
from tests.integration.worker_process import (
    WORKER_PROCESS_MARKS,
    running_worker,
    wait_until,
    worker_log,
)

pytestmark = WORKER_PROCESS_MARKS

SEAL_JOB = "Executing app.signatures.tasks.signatures.seal"


def database_backend() -> list[str]:
    """The database the run is on: PostgreSQL when DATABASE_URL says so, SQLite otherwise."""
    return [
        "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgresql") else "sqlite"
    ]


def deployment(backend: str, settings: Settings, tmp_path: Path) -> tuple[Settings, Settings]:
    """The settings of machine 1 and machine 2: one database, blob store, PKI, secret, mail
    relay (the outbox) and queue; their own instance folders on PostgreSQL."""
    shared = replace(
        settings,
        storage_dir=tmp_path / "shared-blobs",
        outbox_dir=tmp_path / "shared-outbox",
        # Test runs in parallel share PostgreSQL: each its own queue.
        queue_name=f"test-{secrets.token_hex(6)}",
        queue_url=(
            settings.database_url
            if backend == "postgresql"
            else f"sqlite:///{settings.instance_dir / 'queue.db'}"
        ),
    )
    if backend == "sqlite":
        return shared, shared
    return (
        replace(shared, instance_dir=tmp_path / "machine-1"),
        replace(shared, instance_dir=tmp_path / "machine-2"),
    )


@pytest.mark.slow  # ~60 s on 2 busy cores: four processes start, then a whole journey
@pytest.mark.parametrize("backend", database_backend())
def test_two_servers_two_workers_one_deployment(
    backend: str,
    settings: Settings,
    make_app: Callable[[Settings], Flask],
    tmp_path: Path,
) -> None:
    machine_1, machine_2 = deployment(backend, settings, tmp_path)
    for machine in (machine_1, machine_2):
        machine.instance_dir.mkdir(parents=True, exist_ok=True)
    app = make_app(machine_1)  # this process only seeds and reads the database
    publish_short_cgv(app)
    sales_email = make_user(app, Role.SALES)

    with ExitStack() as stack:
        base_1, _ = stack.enter_context(contextmanager(serve)(machine_1))
        base_2, _ = stack.enter_context(contextmanager(serve)(machine_2))
        stack.enter_context(running_worker(machine_1))
        stack.enter_context(running_worker(machine_2))
        done = journey(
            Browser(base_1),
            lambda: Browser(base_2),
            machine_1.outbox_dir,
            number=1,
            password=PASSWORD,
            sales_email=sales_email,
            signer_email="zoe@example.fr",
        )
        # The completion mails (client and countersigner) go after the evidence file.
        wait_until(lambda: len(completion_mail_texts(app)) == 2, machine_1)
        time.sleep(1.0)  # time for a second seal, if a worker were to run one

    logs = {m.instance_dir for m in (machine_1, machine_2)}
    seals = sum(worker_log(replace(machine_1, instance_dir=d)).count(SEAL_JOB) for d in logs)
    assert seals == 1, "the seal ran once, in whichever worker dequeued it"
    assert count(app, Document, Document.kind == DocumentKind.SIGNED_CONTRACT) == 1
    assert count(app, Document, Document.kind == DocumentKind.EVIDENCE) == 2  # PDF + JSON
    assert len(completion_mail_texts(app)) == 2

    assert_sealed_contract(verify_pdf(done.signed_pdf, trust_roots(machine_1)))
    assert_valid_for_pdfsig(done.signed_pdf, tmp_path / "signed.pdf")
