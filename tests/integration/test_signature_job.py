"""A signer's signature as a job (issue 14: nobody waits): the signing page's POST records the
consent in one short transaction and answers at once; the job `signatures.sign` applies the
PAdES signature with the consent's time, once, whatever the number of POSTs, runs or workers;
the sweep enqueues again a consent whose job was lost; a failing job is retried and shown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.config import Settings
from app.db import transaction, utcnow
from app.job_runs.models import JobRun, RunStatus
from app.pki import trust_roots
from app.signatures import consent, tasks
from app.signatures.models import RequestStatus, SignatureRequest, Signer, SignerStatus
from app.signatures.progress import POLL_FAILING_SECONDS, POLL_SIGNING_SECONDS
from app.terms.models import CgvAcceptance
from signing import SigningError, SigningKey, verify_pdf
from tests.conftest import csrf_from
from tests.factories import (
    login_as,
    make_contracted_client,
    publish_short_cgv,
    runtime,
    send_contract,
    session_of,
)
from tests.factories.signing import authenticate_link, consent_without_job, signing_browser
from tests.integration.helpers import signer_by_token, tabs_of
from tests.integration.lost_jobs import aged_past
from tests.integration.worker_process import (
    queued_settings,
    running_worker,
    wait_until,
)
from tests.together import PARALLEL, all_at_once

CONSENT = {"accept_cgv": "oui", "agree": "oui"}


def _sent(app: Flask) -> tuple[int, str]:
    """A client's contract sent for signature to its one signer: (contract id, token)."""
    publish_short_cgv(app)
    contracted = make_contracted_client(app)
    return contracted.contract_id, send_contract(app, contracted.contract_id).rsplit("/", 1)[1]


def _request(app: Flask) -> SignatureRequest:
    with session_of(app) as session:
        request = session.scalars(select(SignatureRequest)).one()
        session.expunge(request)
        return request


def _journaled(app: Flask, action: str) -> int:
    with session_of(app) as session:
        found = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        )
        return found or 0


def _acceptances(app: Flask) -> int:
    with session_of(app) as session:
        return session.scalar(select(func.count()).select_from(CgvAcceptance)) or 0


def _as_if_lost(app: Flask, token: str, signer_id: int) -> None:
    """The consent moved back past the time a job takes: the sweep counts its job lost."""
    consented = signer_by_token(app, token).consented_at
    assert consented is not None
    aged_past(app, Signer.consented_at, signer_id, consent.LOST_AFTER, since=consented)


def _state(browser: FlaskClient, token: str) -> dict[str, Any]:
    data = browser.get(f"/signature/{token}/etat").get_json()
    assert isinstance(data, dict)
    return data


def _consent(app: Flask, token: str) -> int:
    """The consent recorded as the POST does, its job not run (lost): the signer's id."""
    authenticate_link(app, token)
    return consent_without_job(app, token)


@pytest.mark.committed_db  # the worker process reads what the test committed
@pytest.mark.real_clock
def test_the_post_answers_without_signing_and_the_worker_signs_with_the_consent_time(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    queued = queued_settings("sqlite", settings, tmp_path)
    app = make_app(queued)
    contract_id, token = _sent(app)
    browser, csrf = signing_browser(app, token)
    before = _request(app).current_sha256

    posted = browser.post(f"/signature/{token}", data={"csrf_token": csrf, **CONSENT})

    # Answered with no worker running: the consent is recorded, nothing is signed yet.
    assert posted.status_code == 302
    assert posted.headers["Location"] == f"/signature/{token}/termine"
    signer = signer_by_token(app, token)
    assert signer.status is SignerStatus.SIGNING and signer.signed_at is None
    assert signer.consented_at is not None and signer.ip is not None
    assert signer.consent_text and "conditions générales de vente, version 3.0" in (
        signer.consent_text
    )
    assert _request(app).current_sha256 == before  # no new PDF revision
    assert _journaled(app, "signature.consented") == 1 and _acceptances(app) == 1
    assert _journaled(app, "signature.signed") == 0
    page = browser.get(posted.headers["Location"]).get_data(as_text=True)
    assert "<h1>Signature enregistrée</h1>" in page
    assert "en cours d&#39;apposition" in page and 'data-stage="signing"' in page
    assert f'data-poll-after="{POLL_SIGNING_SECONDS}"' in page
    assert _state(browser, token)["stage"] == "signing"
    # the signing page itself now leads to the progress
    assert browser.get(f"/signature/{token}").headers["Location"] == f"/signature/{token}/termine"
    sales = login_as(app, Role.SALES)
    assert "signature en cours" in sales.get(f"/contrats/{contract_id}").get_data(as_text=True)

    with running_worker(queued):
        wait_until(lambda: _request(app).signed_document_id is not None, queued)

    signed = signer_by_token(app, token)
    assert signed.status is SignerStatus.SIGNED and signed.signed_at == signer.consented_at
    request = _request(app)
    assert request.status is RequestStatus.COMPLETED and request.sealed_at is not None
    state = _state(browser, token)
    assert state["stage"] == "sealed" and state["poll_after"] is None
    pdf = browser.get(state["download_url"]).data
    report = verify_pdf(pdf, trust_roots(runtime(app).settings))
    [by_signer] = [s for s in report.signatures if s.field_name == signed.field_name]
    assert by_signer.trusted and by_signer.signing_time is not None
    # the consent's time (to the second the PDF keeps), not the job's
    assert abs(by_signer.signing_time - signer.consented_at) < timedelta(seconds=1)


@pytest.mark.committed_db  # threads and the worker on their own connections
@pytest.mark.real_clock
def test_twenty_posts_of_one_signer_record_one_consent_and_one_signature(
    queued: Settings, make_app: Callable[[Settings], Flask]
) -> None:
    app = make_app(queued)
    _contract_id, token = _sent(app)
    browser, csrf = signing_browser(app, token)
    # one address each: the POST's rate limit counts people, not this test
    responses = all_at_once(
        [
            partial(
                tab.post,
                f"/signature/{token}",
                data={"csrf_token": csrf, **CONSENT},
                environ_base={"REMOTE_ADDR": f"192.0.2.{number + 1}"},
            )
            for number, tab in enumerate(tabs_of(app, browser))
        ]
    )
    assert sorted(r.status_code for r in responses) == [302] * PARALLEL
    assert _journaled(app, "signature.consented") == 1 and _acceptances(app) == 1

    signer_id = signer_by_token(app, token).id
    tasks.sign_consented.enqueue(signer_id)  # once more: a retry, the sweep
    with running_worker(queued, workers=2):
        wait_until(lambda: _request(app).signed_document_id is not None, queued)

    assert _journaled(app, "signature.signed") == 1 and _acceptances(app) == 1
    with session_of(app) as session:
        moves = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "signature.signed")
        ).all()
    assert len(moves) == 1


def test_the_job_run_twice_signs_once(app: Flask) -> None:
    _contract_id, token = _sent(app)
    signer_id = _consent(app, token)
    with pytest.MonkeyPatch.context() as held:  # the seal waits: only the signature counts
        held.setattr(tasks.seal_request, "enqueue", lambda *_args: None)
        tasks.sign_consented.run(signer_id)
        after_first = _request(app).current_sha256
        tasks.sign_consented.run(signer_id)  # a retry after a crash, a second worker
    assert _request(app).current_sha256 == after_first
    assert _journaled(app, "signature.signed") == 1
    assert signer_by_token(app, token).status is SignerStatus.SIGNED


def test_the_sweep_enqueues_again_a_consent_whose_job_was_lost(app: Flask) -> None:
    _contract_id, token = _sent(app)
    signer_id = _consent(app, token)

    tasks.sweep.run()  # a consent of a moment ago: its job may still be on its way
    assert signer_by_token(app, token).status is SignerStatus.SIGNING

    _as_if_lost(app, token, signer_id)
    tasks.sweep.run()

    signer = signer_by_token(app, token)
    assert signer.status is SignerStatus.SIGNED and signer.signed_at == signer.consented_at
    assert _request(app).sealed_at is not None  # the seal followed, in the same sweep


def test_the_operators_sweep_command_applies_a_lost_consent_then_seals(app: Flask) -> None:
    """`paraphe signatures sweep` does what the periodic sweep does: a consent whose job was
    lost is signed (its job enqueued again: inline here, it runs), then the request sealed."""
    _contract_id, token = _sent(app)
    signer_id = _consent(app, token)
    _as_if_lost(app, token, signer_id)

    swept = app.test_cli_runner().invoke(args=["signatures", "sweep"])

    assert swept.exit_code == 0, swept.output
    assert "1\u00a0signature consentie remise en file." in swept.output
    signer = signer_by_token(app, token)
    assert signer.status is SignerStatus.SIGNED and signer.signed_at == signer.consented_at
    assert _request(app).sealed_at is not None


def test_a_signature_that_cannot_be_applied_is_shown_retried_and_relaunched(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    _contract_id, token = _sent(app)
    browser, csrf = signing_browser(app, token)

    def key_unavailable() -> SigningKey:
        raise SigningError("horodatage indisponible")

    rt = runtime(app)
    with monkeypatch.context() as down:
        down.setattr(rt, "signing_key", key_unavailable)
        posted = browser.post(f"/signature/{token}", data={"csrf_token": csrf, **CONSENT})

    assert posted.status_code == 302  # the consent is kept; inline, the one attempt failed
    signer = signer_by_token(app, token)
    assert signer.status is SignerStatus.SIGNING and signer.sign_attempts == 1
    state = _state(browser, token)
    assert state["stage"] == "signing_failing" and state["poll_after"] == POLL_FAILING_SECONDS
    assert "relancée automatiquement" in state["message"]
    assert "vous n'avez rien à refaire" in state["message"]
    page = browser.get(f"/signature/{token}/termine").get_data(as_text=True)
    assert 'class="flash error"' in page
    with session_of(app) as session:
        run = session.scalars(select(JobRun).where(JobRun.name == "signatures.sign")).one()
    assert run.status is RunStatus.FAILED and run.args == [signer.id]

    admin = login_as(app, Role.ADMIN)  # the key is back: an operator relaunches
    listing = admin.get("/travaux/en-echec").get_data(as_text=True)
    assert "signatures.sign" in listing
    admin.post(f"/travaux/{run.id}/relancer", data={"csrf_token": csrf_from(listing)})
    assert signer_by_token(app, token).status is SignerStatus.SIGNED
    assert _state(browser, token)["stage"] == "sealed"


def test_a_request_due_to_expire_waits_for_a_consent_given_in_time(app: Flask) -> None:
    _contract_id, token = _sent(app)
    signer_id = _consent(app, token)  # its job not run yet
    with transaction(runtime(app).session_factory) as session:
        session.execute(update(SignatureRequest).values(expires_at=utcnow() - timedelta(seconds=1)))
    runner = app.test_cli_runner()

    kept = runner.invoke(args=["signatures", "expire"])

    assert "0\u00a0demande expirée." in kept.output
    assert signer_by_token(app, token).status is SignerStatus.SIGNING
    tasks.sign_consented.run(signer_id)  # the signature lands: the only one, so completed
    assert _request(app).status is RequestStatus.COMPLETED
