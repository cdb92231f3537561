"""« Travaux en échec » names each job in French, its queue name kept small beside it for
support, and speaks of the background jobs' process, not of « le worker »."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask

from app.auth.models import Role
from app.db import transaction, utcnow
from app.job_runs.models import JobRun, RunStatus
from tests.conftest import csrf_from
from tests.factories import login_as, runtime


def _record(app: Flask, task_id: str, name: str, status: RunStatus) -> int:
    now = utcnow()
    with transaction(runtime(app).session_factory) as session:
        run = JobRun(
            task_id=task_id,
            name=name,
            args=[],
            kwargs={},
            status=status,
            attempts=1,
            last_error="boom",
            started_at=now - timedelta(minutes=2),
            updated_at=now - timedelta(minutes=1),
            next_attempt_at=now + timedelta(minutes=5) if status is RunStatus.RETRYING else None,
        )
        session.add(run)
        session.flush()
        return run.id


def _cell(html: str, row_id: str) -> str:
    found = re.search(rf'<tr id="{row_id}"><td>(.*?)</td>', html, re.S)
    assert found is not None, row_id
    return found.group(1)


def test_failed_jobs_read_in_french_with_the_queue_name_for_support(app: Flask) -> None:
    sealed = _record(app, "t-seal", "signatures.seal", RunStatus.FAILED)
    unknown = _record(app, "t-old", "old.release.job", RunStatus.INTERRUPTED)
    _record(app, "t-mail", "mail.deliver", RunStatus.RETRYING)
    html = login_as(app, Role.ADMIN).get("/travaux/en-echec").get_data(as_text=True)

    seal = _cell(html, f"run-{sealed}")
    assert seal.startswith("Scellement du contrat signé<br>")
    assert '<small class="meta"><code>signatures.seal</code></small>' in seal
    old = _cell(html, f"run-{unknown}")
    assert old == "<code>old.release.job</code>"  # no French name: its queue name alone
    retrying = html.split('id="retrying-jobs"', 1)[1]
    assert "Envoi d&#39;un courriel<br>" in retrying
    assert "<code>mail.deliver</code>" in retrying
    # The interrupted run's state and the page's text: French, no « worker ».
    assert "worker" not in html.lower()
    assert "processus des travaux en arrière-plan" in html


def test_a_relaunch_is_confirmed_with_the_french_name(app: Flask) -> None:
    run_id = _record(app, "t-prune", "job_runs.prune", RunStatus.FAILED)
    admin = login_as(app, Role.ADMIN)
    token = csrf_from(admin.get("/travaux/en-echec").get_data(as_text=True))
    page = admin.post(
        f"/travaux/{run_id}/relancer", data={"csrf_token": token}, follow_redirects=True
    )
    html = page.get_data(as_text=True)
    assert "Nettoyage de l&#39;historique des travaux » relancé." in html
