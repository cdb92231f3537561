"""« Retirer de la liste » on « Travaux en échec »: a failed run with nothing left to relaunch
(here, a contract generation's job whose generation no longer exists) leaves the admins' list,
its row kept as the evidence of what failed, journaled once however many clicks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.contracts import tasks
from app.db import transaction, utcnow
from app.job_runs import runs
from app.job_runs.models import JobRun, RunStatus
from tests.conftest import csrf_from
from tests.factories import count, login_as, runtime
from tests.factories.db import session_of
from tests.integration.helpers import fire_together, user_id_of

FAILED_JOBS = "/travaux/en-echec"
MISSING = 987654  # no generation has this id
REASON = f"Génération de contrat n° {MISSING} introuvable."
DISMISSALS = AuditEvent.action == "job_run.dismissed"


def _failed_run(app: Flask, name: str = tasks.generate_requested.name) -> int:
    """A run of the job `name` for the missing generation, failed for good, as a worker
    records it."""
    task_id = f"lost-{name}"
    with transaction(runtime(app).session_factory) as session:
        task = runs.TaskRef(task_id, name, [MISSING], {})
        runs.failed(session, task, utcnow(), error="OSError : disque plein", retry_in=None)
        run_id = session.scalar(select(JobRun.id).where(JobRun.task_id == task_id))
    assert run_id is not None
    return run_id


def _status(app: Flask, run_id: int) -> RunStatus:
    with session_of(app) as session:
        return session.get_one(JobRun, run_id).status


def _dismiss(browser: FlaskClient, run_id: int, csrf: str) -> int:
    return browser.post(f"/travaux/{run_id}/retirer", data={"csrf_token": csrf}).status_code


def test_a_run_with_nothing_to_relaunch_is_dismissed_once_and_kept(app: Flask) -> None:
    run_id = _failed_run(app)
    admin = login_as(app, Role.ADMIN)
    page = admin.get(FAILED_JOBS).get_data(as_text=True)
    assert REASON in page and f'id="dismiss-{run_id}"' in page
    assert f'id="relaunch-{run_id}"' not in page

    assert _dismiss(admin, run_id, csrf_from(page)) == 302
    page = admin.get(FAILED_JOBS).get_data(as_text=True)

    assert "Travail retiré de la liste (il reste au journal)." in page
    assert f'id="run-{run_id}"' not in page and 'id="none"' in page
    assert _status(app, run_id) is RunStatus.DISMISSED
    with session_of(app) as session:
        (event,) = session.scalars(select(AuditEvent).where(DISMISSALS)).all()
    admin_id = user_id_of(app, "admin@example.test")
    assert (event.actor, event.subject_type, event.subject_id) == (
        f"user:{admin_id}",
        "job_run",
        str(run_id),
    )
    assert REASON in event.details and event.at is not None
    # a second click (an old page): told so, journaled once
    assert _dismiss(admin, run_id, csrf_from(page)) == 302
    page = admin.get(FAILED_JOBS).get_data(as_text=True)
    assert "Ce travail a déjà été retiré de la liste ou relancé" in page
    assert count(app, AuditEvent, DISMISSALS) == 1
    # the row is evidence: pruning never takes it
    with transaction(runtime(app).session_factory) as session:
        assert runs.prune(session, utcnow() + timedelta(days=30)) == 0
    assert _status(app, run_id) is RunStatus.DISMISSED


def test_a_run_that_can_still_be_relaunched_is_not_dismissed(app: Flask) -> None:
    run_id = _failed_run(app, "terms.render_pdf")  # no work row: « Relancer » enqueues it
    admin = login_as(app, Role.ADMIN)
    page = admin.get(FAILED_JOBS).get_data(as_text=True)
    assert f'id="relaunch-{run_id}"' in page and f'id="dismiss-{run_id}"' not in page

    assert _dismiss(admin, run_id, csrf_from(page)) == 302

    page = admin.get(FAILED_JOBS).get_data(as_text=True)
    assert "Ce travail peut encore être relancé : utilisez « Relancer »." in page
    assert f'id="relaunch-{run_id}"' in page
    assert _status(app, run_id) is RunStatus.FAILED
    assert count(app, AuditEvent, DISMISSALS) == 0


def test_only_admins_dismiss_and_only_with_the_csrf_token(app: Flask) -> None:
    run_id = _failed_run(app)
    for role in (Role.SALES, Role.LEGAL):
        browser = login_as(app, role)
        csrf = csrf_from(browser.get("/").get_data(as_text=True))
        assert _dismiss(browser, run_id, csrf) == 403, role
    admin = login_as(app, Role.ADMIN)
    admin.get(FAILED_JOBS)
    assert admin.post(f"/travaux/{run_id}/retirer").status_code == 400  # no token
    assert _status(app, run_id) is RunStatus.FAILED
    assert count(app, AuditEvent, DISMISSALS) == 0


@pytest.mark.committed_db  # the clicks' threads commit on their own connections
def test_twenty_clicks_at_once_dismiss_and_journal_once(app: Flask) -> None:
    run_id = _failed_run(app)
    admin = login_as(app, Role.ADMIN)
    csrf = csrf_from(admin.get(FAILED_JOBS).get_data(as_text=True))

    answers = fire_together(
        app, admin, lambda tab: tab.post(f"/travaux/{run_id}/retirer", data={"csrf_token": csrf})
    )

    assert [a.status_code for a in answers] == [302] * len(answers) and len(answers) == 20
    assert _status(app, run_id) is RunStatus.DISMISSED
    assert count(app, AuditEvent, DISMISSALS) == 1
