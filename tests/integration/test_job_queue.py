"""The job queue for real: jobs written to a broker (SQLite file, Redis, PostgreSQL) by the
application and run by `paraphe worker`, a separate process, exactly once."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select

from app.config import Settings
from app.documents.models import Document, DocumentKind
from app.signatures.models import RequestStatus, SignatureRequest
from tests.factories import make_contracted_client, publish_short_cgv
from tests.factories.db import count, session_of
from tests.factories.signing import completion_mail_texts, send_contract, sign_token
from tests.integration.worker_process import (
    WORKER_PROCESS_MARKS,
    running_worker,
    wait_until,
    worker_log,
)

pytestmark = WORKER_PROCESS_MARKS


def _sealed(app: Flask, request_id: int) -> bool:
    with session_of(app) as session:
        request = session.get(SignatureRequest, request_id)
        assert request is not None
        return request.sealed_at is not None and request.evidence_document_id is not None


def test_the_last_signature_answers_at_once_and_a_worker_seals_exactly_once(
    queued: Settings, make_app: Callable[[Settings], Flask]
) -> None:
    app = make_app(queued)
    publish_short_cgv(app)
    contracted = make_contracted_client(app)
    token = send_contract(app, contracted.contract_id).rsplit("/", 1)[1]

    result = sign_token(app, token)

    # Signed and completed, not sealed: the seal waits in the broker for a worker.
    assert result.completed
    with session_of(app) as session:
        request = session.scalars(select(SignatureRequest)).one()
        assert request.status is RequestStatus.COMPLETED and request.sealed_at is None
    assert count(app, Document, Document.kind == DocumentKind.SIGNED_CONTRACT) == 0
    assert completion_mail_texts(app) == []

    # The same seal enqueued again (a double click, a sweep): still one effect.
    from app.signatures.tasks import seal_request

    seal_request.enqueue(result.request_id)
    with running_worker(queued, workers=2):
        wait_until(lambda: _sealed(app, result.request_id), queued)
        wait_until(lambda: len(completion_mail_texts(app)) == 1, queued)
        time.sleep(1.0)  # the duplicate job had time to run: it must find nothing to seal
    assert count(app, Document, Document.kind == DocumentKind.SIGNED_CONTRACT) == 1
    assert count(app, Document, Document.kind == DocumentKind.EVIDENCE) == 2  # PDF + JSON
    assert len(completion_mail_texts(app)) == 1
    assert worker_log(queued).count("Executing app.signatures.tasks.signatures.seal") == 2
