"""While a signer's signature is being applied (issue 14: its consent recorded, the job
`signatures.sign` not done yet): every action of that signer answers « Votre signature est en
cours d'application… » with the page that follows it and changes nothing; cancelling the
request, or another signer's decline, waits for the signature (the consent came first); the
sweep leaves alone a job waiting for its retry, and takes over one that failed or was lost,
so one run chases one consent and the admins' page shows that run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.config import Settings
from app.contracts.printing import Countersigner
from app.db import transaction, utcnow
from app.job_runs import runs
from app.job_runs.models import JobRun, RunStatus
from app.signatures import consent, lifecycle, tasks
from app.signatures.models import RequestStatus, SignatureRequest, Signer, SignerStatus
from signing import SigningError, SigningKey
from tests.conftest import csrf_from
from tests.factories import (
    crm_writer,
    login_as,
    make_client,
    make_contract,
    make_quote,
    publish_short_cgv,
    runtime,
    session_of,
)
from tests.factories.signing import (
    authenticate_link,
    consent_without_job,
    send_version_1,
    signing_browser,
)
from tests.integration.helpers import signer_by_token
from tests.integration.lost_jobs import (
    aged_past,
    failed_once,
    runs_named,
    sweep_waits_for_the_retry_then_takes_over,
)
from tests.integration.worker_process import (
    database_broker,
    queued_settings,
    running_worker,
    wait_until,
)

VENDOR = Countersigner(name="Søren Ødegård", email="soren@vendor.example")
IN_PROGRESS = "Votre signature est en cours d&#39;application"
CONSENT = {"accept_cgv": "oui", "agree": "oui"}
CANCEL_WAITS = "Une signature est en cours d&#39;application ; réessayez dans un instant."


def sent_to_two(app: Flask, *, parallel: bool = False) -> tuple[int, list[str]]:
    """A contract sent to its client's signer then (or, `parallel`, with) the vendor's:
    (request id, the links' tokens awaited now)."""
    publish_short_cgv(app)
    contract_id = make_contract(app, make_quote(app, make_client(app)), VENDOR)
    request_id, tokens = send_version_1(app, contract_id, parallel=parallel)
    return request_id, list(tokens.values())


def signer(app: Flask, signer_id: int) -> Signer:
    with session_of(app) as session:
        found = session.get(Signer, signer_id)
        assert found is not None
        session.expunge(found)
        return found


def request_status(app: Flask, request_id: int) -> RequestStatus:
    with session_of(app) as session:
        request = session.get(SignatureRequest, request_id)
        assert request is not None
        return request.status


def journaled(app: Flask, action: str) -> int:
    with session_of(app) as session:
        return (
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
            )
            or 0
        )


def sign_runs(app: Flask) -> list[JobRun]:
    return runs_named(app, "signatures.sign")


def assert_follows_the_signature(response: TestResponse, token: str) -> None:
    """Refused (409) with the page that follows the signature (its script polls), never the
    « pas encore à vous » of a signer whose turn has not come."""
    html = response.get_data(as_text=True)
    assert response.status_code == 409, html[:500]
    assert IN_PROGRESS in html and "ne peut plus être retiré ni refusé" in html
    assert f'data-progress-url="/signature/{token}/etat"' in html
    assert 'data-stage="signing"' in html
    assert "pas encore à vous" not in html and "pas à vous" not in html


def test_every_action_of_a_signer_whose_signature_is_applied_says_so_and_changes_nothing(
    app: Flask,
) -> None:
    request_id, [token] = sent_to_two(app)
    browser, csrf = signing_browser(app, token)
    elsewhere = app.test_client()  # a browser without the code, opened before the consent
    elsewhere_csrf = csrf_from(elsewhere.get(f"/signature/{token}").get_data(as_text=True))
    signer_id = consent_without_job(app, token)
    before = signer(app, signer_id)
    codes_sent = journaled(app, "signature.code_sent")

    declined = browser.post(
        f"/signature/{token}/refuser", data={"csrf_token": csrf, "reason": "Finalement non."}
    )
    asked = browser.post(f"/signature/{token}/code", data={"csrf_token": csrf})
    entered = browser.post(f"/signature/{token}/verifier", data={"csrf_token": csrf, "code": "1"})
    other_decline = elsewhere.post(
        f"/signature/{token}/refuser", data={"csrf_token": elsewhere_csrf, "reason": "Non."}
    )

    for response in (declined, asked, entered, other_decline):
        assert_follows_the_signature(response, token)
    after = signer(app, signer_id)
    assert after.status is SignerStatus.SIGNING and after.declined_at is None
    assert after.otp_failures == before.otp_failures == 0  # a wrong code was not even counted
    assert after.otp_sent_at == before.otp_sent_at and after.otp_locked_at is None
    assert request_status(app, request_id) is RequestStatus.SENT
    assert journaled(app, "signature.declined") == 0
    assert journaled(app, "signature.code_sent") == codes_sent
    assert journaled(app, "signature.code_refused") == 0
    # the signing page still leads to the progress, which the signature then completes
    assert browser.get(f"/signature/{token}").headers["Location"] == f"/signature/{token}/termine"
    tasks.sign_consented.run(signer_id)
    assert signer(app, signer_id).status is SignerStatus.SIGNED


def test_cancel_and_another_signers_decline_wait_for_a_signature_being_applied(
    app: Flask,
) -> None:
    request_id, [client_token, vendor_token] = sent_to_two(app, parallel=True)
    vendor_browser, vendor_csrf = signing_browser(app, vendor_token)
    authenticate_link(app, client_token)
    signer_id = consent_without_job(app, client_token)
    sales = login_as(app, Role.SALES)
    csrf = csrf_from(sales.get("/").get_data(as_text=True))
    api = app.test_client()
    writer = crm_writer(app)

    on_the_web = sales.post(
        f"/demandes-signature/{request_id}/annuler", data={"csrf_token": csrf, "reason": "Non."}
    )
    by_api = api.post(
        f"/api/v1/signature-requests/{request_id}/cancel", json={"reason": "Non."}, headers=writer
    )
    declined = vendor_browser.post(
        f"/signature/{vendor_token}/refuser", data={"csrf_token": vendor_csrf, "reason": "Non."}
    )

    assert on_the_web.status_code == 409 and CANCEL_WAITS in on_the_web.get_data(as_text=True)
    assert by_api.status_code == 409 and by_api.mimetype == "application/problem+json"
    assert by_api.get_json()["detail"] == CANCEL_WAITS.replace("&#39;", "'")
    declined_page = declined.get_data(as_text=True)
    assert declined.status_code == 409 and CANCEL_WAITS in declined_page
    assert "<h1>Contrat " in declined_page  # their own signing page, with the refusal
    assert request_status(app, request_id) is RequestStatus.SENT
    assert journaled(app, "signature.cancelled") == 0 and journaled(app, "signature.declined") == 0
    assert signer(app, signer_id).status is SignerStatus.SIGNING

    tasks.sign_consented.run(signer_id)  # the signature lands: now the request can be closed
    cancelled = api.post(
        f"/api/v1/signature-requests/{request_id}/cancel", json={"reason": "Non."}, headers=writer
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["status"] == "cancelled"
    assert signer(app, signer_id).status is SignerStatus.SIGNED  # journaled, and it stays


def _consent_lost_long_ago(app: Flask, signer_id: int) -> None:
    """The consent older than the sweep's patience (`consent.LOST_AFTER`)."""
    aged_past(app, Signer.consented_at, signer_id, consent.LOST_AFTER)


def _consent_of_a_lost_job(app: Flask) -> tuple[int, runs.TaskRef]:
    """A client's consent recorded long ago, its signature not applied: (the signer's id, the
    job `signatures.sign` that was to apply it, as a job run records it)."""
    _request_id, [token] = sent_to_two(app)
    authenticate_link(app, token)
    signer_id = consent_without_job(app, token)
    _consent_lost_long_ago(app, signer_id)
    return signer_id, runs.TaskRef("task-of-the-consent", "signatures.sign", [signer_id], {})


def test_the_sweep_leaves_alone_a_signature_job_waiting_for_its_retry(app: Flask) -> None:
    signer_id, task = _consent_of_a_lost_job(app)
    failed_once(app, task, "TimestampError")  # a TSA down a moment

    statuses = sweep_waits_for_the_retry_then_takes_over(
        app, tasks.sweep.run, task, lambda: signer(app, signer_id).status
    )
    assert statuses == (SignerStatus.SIGNING, SignerStatus.SIGNED)


def test_a_signature_job_out_of_attempts_is_shown_then_taken_over_by_the_sweep(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    _request_id, [token] = sent_to_two(app)
    browser, csrf = signing_browser(app, token)

    def key_unavailable() -> SigningKey:
        raise SigningError("horodatage indisponible")

    with monkeypatch.context() as down:  # the key is down
        down.setattr(runtime(app), "signing_key", key_unavailable)
        # Inline, the job's one attempt is its last: out of attempts at once.
        browser.post(f"/signature/{token}", data={"csrf_token": csrf, **CONSENT})
    [failed] = sign_runs(app)
    assert failed.status is RunStatus.FAILED
    state = browser.get(f"/signature/{token}/etat").get_json()
    assert state["stage"] == "signing_failing" and "relancée automatiquement" in state["message"]
    admin = login_as(app, Role.ADMIN)
    listing = admin.get("/travaux/en-echec").get_data(as_text=True)
    assert f'id="run-{failed.id}"' in listing and "horodatage indisponible" in listing
    signer_id = signer_by_token(app, token).id

    tasks.sweep.run()  # the consent is recent: its failure waits on the page
    assert sign_runs(app)[0].status is RunStatus.FAILED
    _consent_lost_long_ago(app, signer_id)
    tasks.sweep.run()  # the key is back

    replaced, taken_over = sign_runs(app)
    assert replaced.status is RunStatus.RELAUNCHED and taken_over.status is RunStatus.COMPLETE
    assert signer(app, signer_id).status is SignerStatus.SIGNED
    assert signer(app, signer_id).sign_attempts == 1  # one failed attempt, counted once
    assert 'id="none"' in admin.get("/travaux/en-echec").get_data(as_text=True)


@pytest.mark.committed_db  # a thread, and the worker process, read what the test committed
@pytest.mark.real_clock
@pytest.mark.parametrize("first", ["consent", "cancel"])
def test_a_consent_and_a_cancellation_at_once_leave_a_signature_or_nothing(
    first: str, settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    """The two take the request's lock: whichever has it first wins, the other waits for it
    and, once it has it, reads the request as the first left it. A consent first: the
    cancellation is refused and the worker applies the signature; a cancellation first: the
    consent is refused (410) and a stray job for that signer records nothing."""
    queued = queued_settings(database_broker(settings), settings, tmp_path)
    app = make_app(queued)
    request_id, [token] = sent_to_two(app)  # the client, then the vendor: cancellable after
    browser, csrf = signing_browser(app, token)
    signer_id = signer_by_token(app, token).id
    sales = login_as(app, Role.SALES)
    sales_csrf = csrf_from(sales.get("/").get_data(as_text=True))
    before = revision(app, request_id)
    answers: list[TestResponse] = []

    def second() -> None:
        if first == "consent":
            answers.append(
                sales.post(
                    f"/demandes-signature/{request_id}/annuler",
                    data={"csrf_token": sales_csrf, "reason": "Non."},
                )
            )
        else:
            answers.append(
                browser.post(f"/signature/{token}", data={"csrf_token": csrf, **CONSENT})
            )

    holder = runtime(app).session_factory()  # the first, its transaction held open
    try:
        if first == "consent":
            consent.record_consent(
                holder,
                token,
                now=utcnow(),
                accepted_cgv=True,
                agreed=True,
                authenticated=True,
                ip="192.0.2.7",
                user_agent="pytest",
            )
        else:
            lifecycle.cancel(holder, request_id, "Non.", now=utcnow(), actor="test")
        waiting = threading.Thread(target=second)
        waiting.start()
        waiting.join(timeout=2)
        assert waiting.is_alive(), "the second did not wait for the request's lock"
        holder.commit()
    finally:
        holder.close()
    waiting.join(timeout=60)
    [answer] = answers
    # As the POST does once its consent is committed; after a cancellation, a stray job (a
    # retry, a sweep, a relaunch) that must find nothing to do.
    tasks.sign_consented.enqueue(signer_id)

    with running_worker(queued):
        wait_until(lambda: any(r.status is RunStatus.COMPLETE for r in sign_runs(app)), queued)

    if first == "consent":
        assert answer.status_code == 409 and CANCEL_WAITS in answer.get_data(as_text=True)
        assert signer(app, signer_id).status is SignerStatus.SIGNED
        assert journaled(app, "signature.signed") == 1
        assert request_status(app, request_id) is RequestStatus.PARTIALLY_SIGNED
        again = sales.post(
            f"/demandes-signature/{request_id}/annuler",
            data={"csrf_token": sales_csrf, "reason": "Non."},
        )
        assert again.status_code == 302  # applied: now the request can be cancelled
        assert request_status(app, request_id) is RequestStatus.CANCELLED
        assert signer(app, signer_id).status is SignerStatus.SIGNED
    else:
        assert answer.status_code == 410
        assert "n&#39;est plus active" in answer.get_data(as_text=True)
        assert request_status(app, request_id) is RequestStatus.CANCELLED
        refused = signer(app, signer_id)
        assert refused.status is SignerStatus.AUTHENTICATED and refused.consented_at is None
        assert journaled(app, "signature.consented") == 0
        assert journaled(app, "signature.signed") == 0
        assert revision(app, request_id) == before  # the stray job signed nothing


def revision(app: Flask, request_id: int) -> str | None:
    with session_of(app) as session:
        request = session.get(SignatureRequest, request_id)
        assert request is not None
        return request.current_sha256


def test_the_sweep_takes_over_a_signature_job_whose_worker_went_silent(app: Flask) -> None:
    signer_id, task = _consent_of_a_lost_job(app)
    with transaction(runtime(app).session_factory) as session:
        runs.started(session, task, utcnow())  # a worker took it a moment ago

    tasks.sweep.run()
    [running] = sign_runs(app)
    assert running.status is RunStatus.RUNNING
    assert signer(app, signer_id).status is SignerStatus.SIGNING

    # No news since `runs.LOST_AFTER`: its worker was killed (kill -9 leaves no signal).
    aged_past(app, JobRun.updated_at, running.id, runs.LOST_AFTER)
    tasks.sweep.run()

    silent, taken_over = sign_runs(app)
    assert silent.status is RunStatus.RELAUNCHED and taken_over.status is RunStatus.COMPLETE
    assert signer(app, signer_id).status is SignerStatus.SIGNED
