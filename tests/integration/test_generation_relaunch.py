"""« Relancer » on « Travaux en échec » for a contract generation's job: a generation already
failed is asked again, on behalf of whoever first asked, by the contract page's own retry
(`retrying.ask_again`), once however many clicks; a generation with nothing left to retry
(done, or relaunched already) says why and offers no button. Inline queue, then twenty clicks
at once and a real worker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Role
from app.config import Settings
from app.contracts import retrying, tasks
from app.contracts.models import ContractVersion, GenerationStatus
from app.db import transaction, utcnow
from app.job_runs import runs
from app.job_runs.models import JobRun, RunStatus
from storage import FilesystemBlobStore
from tests.conftest import csrf_from
from tests.factories import count, login_as, runtime
from tests.integration.generation_setup import (
    asked_through_the_api,
    generation_row,
    generations,
    given_up,
    use_store,
)
from tests.integration.helpers import fire_together
from tests.integration.lost_jobs import runs_named
from tests.integration.worker_process import queued_settings, running_worker, wait_until

FAILED_JOBS = "/travaux/en-echec"


def _asked_through_the_api(app: Flask) -> tuple[int, int]:
    """A generation asked by a CRM while the disk is full: (its id, the token's id)."""
    generation_id = asked_through_the_api(app, {"free_text": "Support dédié."})
    return generation_id, generation_row(app, generation_id).token_id or 0


def _runs(app: Flask) -> list[JobRun]:
    return runs_named(app, tasks.generate_requested.name)


def _relaunch(admin: FlaskClient, run_id: int) -> str:
    """Click « Relancer » on the run; the page the admin lands on."""
    csrf = csrf_from(admin.get(FAILED_JOBS).get_data(as_text=True))
    answer = admin.post(f"/travaux/{run_id}/relancer", data={"csrf_token": csrf})
    assert answer.status_code == 302 and answer.headers["Location"] == FAILED_JOBS
    return admin.get(FAILED_JOBS).get_data(as_text=True)


def test_relaunching_the_job_of_a_failed_generation_asks_it_again_once(app: Flask) -> None:
    first, token_id = _asked_through_the_api(app)
    (run,) = _runs(app)  # inline, the job's one attempt crashed: listed for the admins
    assert run.status is RunStatus.FAILED and run.args == [first]
    given_up(app, first)
    use_store(app, FilesystemBlobStore)  # the cause fixed
    admin = login_as(app, Role.ADMIN)
    assert f'id="relaunch-{run.id}"' in admin.get(FAILED_JOBS).get_data(as_text=True)

    page = _relaunch(admin, run.id)

    assert "Travail « Génération d&#39;un contrat demandé » relancé." in page  # its French name
    failed, again = generations(app)
    assert (failed.id, failed.status) == (first, GenerationStatus.FAILED)
    assert (again.status, again.retry_of, again.free_text) == (
        GenerationStatus.DONE,
        first,
        "Support dédié.",
    )
    # asked again for the CRM that first asked: the admin neither sells nor signs
    assert (again.token_id, again.author_id) == (token_id, None)
    assert count(app, ContractVersion) == 1
    assert [r.status for r in _runs(app)] == [RunStatus.RELAUNCHED, RunStatus.COMPLETE]
    # a second click (an old page, another admin): nothing asked again
    csrf = csrf_from(page)
    assert admin.post(f"/travaux/{run.id}/relancer", data={"csrf_token": csrf}).status_code == 302
    assert len(generations(app)) == 2 and count(app, ContractVersion) == 1


def test_a_run_whose_generation_is_done_since_leaves_the_list(app: Flask) -> None:
    first, _token = _asked_through_the_api(app)
    use_store(app, FilesystemBlobStore)
    tasks.generate_requested.run(first)  # done since, by the sweep's run
    assert generation_row(app, first).status is GenerationStatus.DONE
    (run,) = _runs(app)
    admin = login_as(app, Role.ADMIN)

    page = admin.get(FAILED_JOBS).get_data(as_text=True)
    assert f'id="run-{run.id}"' not in page and 'id="none"' in page
    # an old page's « Relancer »: refused, with why, and nothing asked again
    answer = admin.post(f"/travaux/{run.id}/relancer", data={"csrf_token": csrf_from(page)})
    assert answer.status_code == 302
    page = admin.get(FAILED_JOBS).get_data(as_text=True)
    assert f"Génération de contrat n° {first} déjà terminée : rien à relancer." in page
    assert f'id="run-{run.id}"' not in page
    assert [r.status for r in _runs(app)] == [RunStatus.FAILED]  # kept as it ended
    assert len(generations(app)) == 1 and count(app, ContractVersion) == 1


def test_a_run_whose_generation_was_asked_again_and_done_leaves_the_list(app: Flask) -> None:
    first, token_id = _asked_through_the_api(app)
    given_up(app, first)
    use_store(app, FilesystemBlobStore)
    with transaction(runtime(app).session_factory) as session:  # the contract page's retry
        rt = runtime(app)
        again = retrying.ask_again(
            session, first, None, token_id=token_id, vendor=rt.settings.vendor, now=utcnow()
        ).id
    (run,) = _runs(app)
    admin = login_as(app, Role.ADMIN)
    assert f'id="run-{run.id}"' not in admin.get(FAILED_JOBS).get_data(as_text=True)  # pending

    tasks.generate_requested.run(again)

    assert generation_row(app, again).status is GenerationStatus.DONE
    assert f'id="run-{run.id}"' not in admin.get(FAILED_JOBS).get_data(as_text=True)
    assert _runs(app)[0].status is RunStatus.FAILED


def test_other_failed_runs_of_a_relaunched_generation_ask_nothing_more(app: Flask) -> None:
    first, _token = _asked_through_the_api(app)
    tasks.generate_requested.enqueue(first)  # the sweep's run, which crashed too (inline)
    one, two = _runs(app)
    given_up(app, first)
    admin = login_as(app, Role.ADMIN)
    _relaunch(admin, one.id)  # the disk still full: the retry fails in its turn
    retry = generations(app)[-1]
    assert (retry.retry_of, retry.status) == (first, GenerationStatus.PENDING)

    page = admin.get(FAILED_JOBS).get_data(as_text=True)
    refusal = f"Génération de contrat n° {first} déjà relancée (génération n° {retry.id})."
    # the retry pending, its own job renders it: the other run needs nobody
    assert refusal not in page and f'id="run-{two.id}"' not in page
    page = _relaunch(admin, two.id)  # an old page's click: refused, with why
    assert refusal in page and len(generations(app)) == 2

    given_up(app, retry.id)  # the retry failed in its turn: relaunched through its own run
    page = admin.get(FAILED_JOBS).get_data(as_text=True)
    assert refusal in page and f'id="relaunch-{two.id}"' not in page
    assert f'id="dismiss-{two.id}"' in page


@pytest.mark.committed_db  # the clicks' threads and the worker commit on their own
@pytest.mark.real_clock
def test_twenty_clicks_at_once_make_one_new_attempt_rendered_by_the_worker(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    queued = queued_settings("sqlite", settings, tmp_path)
    app = make_app(queued)
    first, _token = _asked_through_the_api(app)
    given_up(app, first)
    with transaction(runtime(app).session_factory) as session:  # as a worker records it
        task = runs.TaskRef("lost-task", tasks.generate_requested.name, [first], {})
        runs.failed(session, task, utcnow(), error="OSError : disque plein", retry_in=None)
    (run,) = _runs(app)
    use_store(app, FilesystemBlobStore)
    admin = login_as(app, Role.ADMIN)
    csrf = csrf_from(admin.get(FAILED_JOBS).get_data(as_text=True))

    answers = fire_together(
        app, admin, lambda tab: tab.post(f"/travaux/{run.id}/relancer", data={"csrf_token": csrf})
    )

    assert {a.status_code for a in answers} == {302}
    failed, again = generations(app)
    assert failed.status is GenerationStatus.FAILED
    assert (again.retry_of, again.status) == (first, GenerationStatus.PENDING)
    with running_worker(queued):
        wait_until(lambda: generation_row(app, again.id).status is GenerationStatus.DONE, queued)
    assert len(generations(app)) == 2 and count(app, ContractVersion) == 1
    assert _runs(app)[0].status is RunStatus.RELAUNCHED
