"""Failed background jobs are recorded (Huey's signals into job_runs) and shown to the admins
on « Travaux en échec », whose « Relancer » button enqueues the job again, once per failure.
Jobs run inline here (where they are enqueued); a job declared with retries=0 fails for good
at its first error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from app.auth.models import Role
from app.db import transaction
from app.job_runs import runs
from app.job_runs.models import RunStatus
from app.queue.broker import huey
from app.queue.tasks import Priority, declared, job
from app.signatures import tasks
from app.signatures.models import SignatureRequest
from tests.conftest import csrf_from
from tests.factories import (
    login_as,
    make_contracted_client,
    publish_short_cgv,
    runtime,
    seal_failing,
    send_contract,
    session_of,
    sign_token,
)
from tests.integration.lost_jobs import runs_named

failures_left: list[int] = []  # how many more times `flaky` fails
done: list[int] = []  # what `flaky` did, when it succeeded


@job("tests.flaky", priority=Priority.NORMAL, retries=0)
def flaky(number: int) -> None:
    if failures_left:
        failures_left.pop()
        raise ConnectionError(
            "SMTP refusé pour smtp://paraphe:s3cr3t-mot@mail.example:587\nligne 2\nligne 3\n"
            "ligne 4\nligne 5\nligne 6 (coupée)"
        )
    done.append(number)


@pytest.fixture(autouse=True)
def _fresh_flaky() -> None:
    failures_left.clear()
    done.clear()


def test_a_failed_job_is_listed_and_relaunched_once(app: Flask) -> None:
    failures_left.append(1)
    flaky.enqueue(42)

    (run,) = runs_named(app, "tests.flaky")
    assert run.status is RunStatus.FAILED and run.attempts == 1 and run.args == [42]
    assert run.last_error is not None
    assert run.last_error.startswith("ConnectionError : SMTP refusé pour smtp://paraphe:***@")
    assert "s3cr3t" not in run.last_error and "ligne 6" not in run.last_error
    assert done == []

    admin = login_as(app, Role.ADMIN)
    page = admin.get("/travaux/en-echec")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Travaux en arrière-plan en échec</h1>" in html
    assert f'id="run-{run.id}"' in html and "tests.flaky" in html and "[42]" in html
    assert "en échec" in html and "SMTP refusé" in html and "s3cr3t" not in html

    csrf = csrf_from(html)
    relaunched = admin.post(f"/travaux/{run.id}/relancer", data={"csrf_token": csrf})
    assert relaunched.status_code == 302
    assert done == [42]  # inline, the job ran again, with its recorded arguments
    first, second = runs_named(app, "tests.flaky")
    assert first.status is RunStatus.RELAUNCHED and first.relaunched_at is not None
    assert second.status is RunStatus.COMPLETE and second.args == [42]
    html = admin.get("/travaux/en-echec").get_data(as_text=True)
    assert "Travail « tests.flaky » relancé." in html and 'id="none"' in html

    # a second click (an old page, another admin): nothing enqueued again
    again = admin.post(f"/travaux/{run.id}/relancer", data={"csrf_token": csrf})
    assert again.status_code == 302 and done == [42]
    assert len(runs_named(app, "tests.flaky")) == 2
    assert "déjà été relancé" in admin.get("/travaux/en-echec").get_data(as_text=True)


def test_only_operators_see_failed_jobs(app: Flask) -> None:
    failures_left.append(1)
    flaky.enqueue(7)
    (run,) = runs_named(app, "tests.flaky")
    for role in (Role.SALES, Role.LEGAL, Role.ARCHIVIST):
        browser = login_as(app, role)
        listing = browser.get("/travaux/en-echec")
        assert listing.status_code == 403, role
        assert "tests.flaky" not in listing.get_data(as_text=True)
        home = browser.get("/").get_data(as_text=True)
        csrf = csrf_from(home)
        assert (
            browser.post(f"/travaux/{run.id}/relancer", data={"csrf_token": csrf}).status_code
            == 403
        )
        assert "Travaux en échec" not in home
    assert done == [] and runs_named(app, "tests.flaky")[0].status is RunStatus.FAILED
    anonymous = app.test_client().get("/travaux/en-echec")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/connexion")
    admin_home = login_as(app, Role.ADMIN).get("/").get_data(as_text=True)
    assert 'href="/travaux/en-echec">Travaux en échec</a>' in admin_home


def test_the_seal_job_retries_then_fails_then_is_relaunched(app: Flask) -> None:
    publish_short_cgv(app)
    contracted = make_contracted_client(app)
    token = send_contract(app, contracted.contract_id).rsplit("/", 1)[1]
    admin = login_as(app, Role.ADMIN)

    with seal_failing(app):
        result = sign_token(app, token)  # the last signature enqueues the seal: it fails
        # Inline, that attempt was the only one: failed for good, nothing parked in memory.
        (run,) = runs_named(app, "signatures.seal")
        assert run.status is RunStatus.FAILED and run.attempts == 1
        assert run.args == [result.request_id] and run.next_attempt_at is None
        assert run.last_error == "SigningError : horodatage indisponible"
        assert huey.scheduled_count() == 0

        # What a worker records of an attempt with retries left: waiting, not failed yet.
        huey.execute(tasks.seal_request._wrapper.s(result.request_id, retries=1))
        huey.storage.flush_schedule()  # that retry is for a worker: none runs here
        retrying = runs_named(app, "signatures.seal")[-1]
        assert retrying.status is RunStatus.RETRYING and retrying.next_attempt_at is not None
        html = admin.get("/travaux/en-echec").get_data(as_text=True)
        assert 'id="retrying-jobs"' in html and f'id="relaunch-{run.id}"' in html

    # the TSA is back
    html = admin.get("/travaux/en-echec").get_data(as_text=True)
    admin.post(f"/travaux/{run.id}/relancer", data={"csrf_token": csrf_from(html)})
    with session_of(app) as session:
        request = session.get(SignatureRequest, result.request_id)
        assert request is not None and request.sealed_at is not None
    assert [r.status for r in runs_named(app, "signatures.seal")] == [
        RunStatus.RELAUNCHED,
        RunStatus.RETRYING,
        RunStatus.COMPLETE,
    ]


@job("tests.failing_with_retries", priority=Priority.NORMAL)  # default retries, as every job
def failing_with_retries(number: int) -> None:
    raise ConnectionError(f"serveur injoignable ({number})")


def test_inline_a_job_with_retries_runs_once_and_its_failure_is_final(app: Flask) -> None:
    """Inline (no consumer), Huey would park each retry in its in-memory schedule, which
    nothing reads: the job would show "retrying" for ever. It runs once; its failure is
    recorded as final, for the admins to relaunch."""
    failing_with_retries.enqueue(3)

    (run,) = runs_named(app, "tests.failing_with_retries")
    assert run.status is RunStatus.FAILED and run.attempts == 1
    assert run.next_attempt_at is None and run.finished_at is not None
    assert run.last_error == "ConnectionError : serveur injoignable (3)"
    assert huey.scheduled_count() == 0
    html = login_as(app, Role.ADMIN).get("/travaux/en-echec").get_data(as_text=True)
    assert f'id="relaunch-{run.id}"' in html


def test_completed_runs_are_pruned_after_a_day_failures_stay(app: Flask) -> None:
    flaky.enqueue(1)
    failures_left.append(1)
    flaky.enqueue(2)
    later = datetime.now(UTC) + timedelta(days=1, minutes=1)
    with transaction(runtime(app).session_factory) as session:
        assert runs.prune(session, datetime.now(UTC)) == 0  # not a day old yet
        assert runs.prune(session, later) == 1
    assert [(r.args, r.status) for r in runs_named(app, "tests.flaky")] == [([2], RunStatus.FAILED)]
    declared("job_runs.prune").run()  # the periodic job itself: nothing more to delete
    assert len(runs_named(app, "tests.flaky")) == 1


def test_job_arguments_must_be_json_values() -> None:
    with pytest.raises(TypeError, match="arguments must be JSON values"):
        flaky.enqueue(object())  # type: ignore[arg-type]
