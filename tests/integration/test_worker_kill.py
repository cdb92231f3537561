"""`kill -9` of `paraphe worker` in the middle of sealing, round after round: every request
still ends sealed exactly once (one signed document, one evidence file), nobody gets the
completion mail twice, no document row is left that no request points to, and the periodic
sweep finishes what the killed workers left.

How the kills land mid-seal without a test-only hook in production code: every request is
signed first, so their seal jobs wait in the broker. Each round starts a worker with one
process; the worker logs "Executing …signatures.seal" just before it calls the seal, and the
test, watching that log, kills the worker's whole process group (SIGKILL, as the kernel's
OOM killer or a lost machine would) after a random delay drawn within the time a seal takes.
What the kill interrupted is then read from the database (nothing recorded yet, sealed but
no evidence, everything but the mails, or nothing: the job had finished) and printed with the
delays, so a run shows how many kills landed mid-seal. The window is halved when a kill comes
too late. A SIGKILLed worker's job is lost with it (Huey removed it from the queue when it
started it): only the sweep can finish it, which is the point.

Which jobs a round took is read from the broker (the seal jobs no longer waiting), not from the
log: a kill that lands just after the worker finished one seal and dequeued the next, before it
logged "Executing", takes that job too, and nothing would ever log it."""

from __future__ import annotations

import email
import email.policy
import os
import random
import secrets
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.config import Settings
from app.documents.models import Document, DocumentKind
from app.queue.broker import huey
from app.signatures.models import SignatureRequest
from tests.factories import make_contracted_client, publish_short_cgv
from tests.factories.db import session_of
from tests.factories.signing import send_contract, sign_token
from tests.integration.test_multi_process import database_backend
from tests.integration.worker_process import WORKER_PROCESS_MARKS, running_worker, worker_log

pytestmark = WORKER_PROCESS_MARKS

EXTRA_ROUNDS = 8
"""Requests signed beyond `rounds` while no kill has landed mid-seal (a fast machine)."""
SEAL_TASK = "signatures.seal"
SEAL_JOB = f"Executing app.signatures.tasks.{SEAL_TASK}"
COMPLETION = "signé par toutes les parties"


def _completion_recipients(settings: Settings) -> Counter[str]:
    """Who received a completion mail, how many times (subjects decoded: they are in French)."""
    recipients: Counter[str] = Counter()
    for path in settings.outbox_dir.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if COMPLETION in str(message["Subject"]):
            recipients[str(message["To"])] += 1
    return recipients


NOTHING = "rien d'enregistré"
SEALED_NO_EVIDENCE = "scellé, sans dossier de preuve"
SEALED_NO_MAIL = "scellé avec preuve, courriel non parti"
DONE = "terminé avant le kill"


def _state(app: Flask, settings: Settings, request_id: int, signer: str) -> str:
    """How far the seal of one request went."""
    with session_of(app) as session:
        request = session.get(SignatureRequest, request_id)
        assert request is not None
        if request.signed_document_id is None:
            return NOTHING
        if request.evidence_document_id is None:
            return SEALED_NO_EVIDENCE
    if _completion_recipients(settings)[signer] == 0:
        return SEALED_NO_MAIL
    return DONE


def _wait(condition: Callable[[], bool], settings: Settings, what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(
                f"{what}: not after {seconds} s; worker log:\n{worker_log(settings)[-3000:]}"
            )
        time.sleep(0.02)


def kill_rounds(
    rounds: int,
    backend: str,
    settings: Settings,
    make_app: Callable[[Settings], Flask],
    tmp_path: Path,
) -> None:
    queued = replace(
        settings,
        queue_url=(
            settings.database_url if backend == "postgresql" else f"sqlite:///{tmp_path / 'q.db'}"
        ),
        queue_name=f"test-{secrets.token_hex(6)}",  # parallel runs share PostgreSQL
    )
    app = make_app(queued)
    publish_short_cgv(app)
    signers: dict[int, str] = {}

    def signed_request(index: int) -> int:
        signer = f"signataire{index}@example.fr"
        contracted = make_contracted_client(app, signer_email=signer)
        token = send_contract(app, contracted.contract_id).rsplit("/", 1)[1]
        result = sign_token(app, token)  # the last signature: its seal job waits in the broker
        assert result.completed
        signers[result.request_id] = signer
        return result.request_id

    order = [signed_request(index) for index in range(rounds)]  # the broker's order

    seed = secrets.randbits(32)
    rng = random.Random(seed)
    # seconds; a seal with its evidence file took 0.7–1.5 s on 2 busy cores, 0.4 s on idle
    # ones. Halved after a kill that came too late, so that a quiet (faster) machine still
    # gets kills mid-seal; and while none has landed mid-seal, one more request is signed (at
    # most EXTRA_ROUNDS), its seal killed within the smaller window.
    window = 1.5
    outcomes: dict[int, tuple[float, str]] = {}
    kills = 0
    started = time.monotonic()

    def landed_mid_seal() -> bool:
        return any(o != DONE for _d, o in outcomes.values())

    def seals_taken() -> int:
        """The seal jobs no longer in the broker (in `order`'s order: one priority, FIFO),
        whether or not the worker that took them lived to log it."""
        waiting = sum(1 for task in huey.pending() if task.name == SEAL_TASK)
        return len(order) - waiting

    def seal_logged_beyond(count: int) -> Callable[[], bool]:
        return lambda: worker_log(queued).count(SEAL_JOB) > count

    while (taken := seals_taken()) < len(order) or (
        not landed_mid_seal() and len(order) < rounds + EXTRA_ROUNDS
    ):
        if taken == len(order):
            order.append(signed_request(len(order)))
        logged = worker_log(queued).count(SEAL_JOB)
        # --no-periodic: only the seal jobs run in these rounds; the sweep comes at the end.
        with running_worker(queued, periodic=False) as worker:
            _wait(
                seal_logged_beyond(logged),
                queued,
                "the worker started a seal",
                90,
            )
            delay = rng.uniform(0, window)
            time.sleep(delay)
            os.killpg(worker.pid, signal.SIGKILL)  # the consumer and its worker process
            worker.wait(timeout=10)
        kills += 1
        # the jobs this worker took (one, unless the kill came after it had finished one)
        for request_id in order[taken : seals_taken()]:
            outcome = _state(app, queued, request_id, signers[request_id])
            outcomes[request_id] = (delay, outcome)
            if outcome == DONE:
                window *= 0.5
    mid_seal = {r for r, (_d, o) in outcomes.items() if o != DONE}
    print(
        f"\n{kills} kills for {len(order)} seals in {time.monotonic() - started:.1f} s "
        f"(seed {seed}); mid-seal: {len(mid_seal)}; "
        + "; ".join(f"{d * 1000:.0f} ms → {o}" for d, o in outcomes.values())
    )
    assert mid_seal, f"no kill landed in the middle of a seal: {outcomes}"

    # The periodic sweep (enqueued now rather than waiting for its */5 minute) seals what the
    # killed workers left and completes the missing evidence files.
    from app.signatures.tasks import sweep

    sweep.enqueue()
    recovery = time.monotonic()
    with running_worker(queued, periodic=False):

        def all_done() -> bool:
            with session_of(app) as session:
                left = session.scalar(
                    select(func.count())
                    .select_from(SignatureRequest)
                    .where(SignatureRequest.evidence_json_id.is_(None))
                )
            return left == 0

        _wait(all_done, queued, "every request sealed with its evidence", 120)
        time.sleep(0.5)
    print(
        f"sweep: {len(mid_seal)} interrupted seals finished in {time.monotonic() - recovery:.1f} s"
    )

    with session_of(app) as session:
        requests = session.scalars(select(SignatureRequest)).all()
        assert len(requests) == len(order)
        assert all(r.sealed_at is not None for r in requests)
        sealed = {r.signed_document_id for r in requests}
        evidence = {r.evidence_document_id for r in requests} | {
            r.evidence_json_id for r in requests
        }
        signed_rows = set(
            session.scalars(
                select(Document.id).where(Document.kind == DocumentKind.SIGNED_CONTRACT)
            )
        )
        evidence_rows = set(
            session.scalars(select(Document.id).where(Document.kind == DocumentKind.EVIDENCE))
        )
        # exactly one signed document and one evidence file (PDF + JSON) per request, and no
        # row that no request points to
        assert signed_rows == sealed and len(sealed) == len(order)
        assert evidence_rows == evidence and len(evidence) == 2 * len(order)
        sealed_events = Counter(
            session.scalars(
                select(AuditEvent.subject_id).where(AuditEvent.action == "signature.sealed")
            )
        )
        assert sealed_events == Counter({str(r.id): 1 for r in requests})
    mailed = _completion_recipients(queued)
    assert all(n == 1 for n in mailed.values()), f"a completion mail went twice: {mailed}"
    # The completion mails are outbox rows written by the seal's own commit: a kill after it
    # cannot lose them, only delay them if their delivery job died with the worker (then
    # mail.requeue, every 5 minutes, sends them). None is ever sent twice.
    after_commit = {SEALED_NO_EVIDENCE, SEALED_NO_MAIL}
    lost = {r for r, s in signers.items() if mailed[s] == 0}
    print(f"completion mails: {len(mailed)} sent once each, {len(lost)} lost to a kill")
    assert lost <= {r for r, (_d, o) in outcomes.items() if o in after_commit}


@pytest.mark.parametrize("backend", database_backend())
def test_worker_killed_mid_seal(
    backend: str, settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    kill_rounds(3, backend, settings, make_app, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("backend", database_backend())
def test_worker_killed_mid_seal_20_times(
    backend: str, settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    kill_rounds(20, backend, settings, make_app, tmp_path)
