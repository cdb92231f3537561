"""The contracts sweep chases a generation whose job was lost, not one whose job is still
waiting for its retry: one job per generation, one run on the admins' page."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select, update

from app.auth.models import Role
from app.contracts import tasks
from app.contracts.models import ContractGeneration, GenerationStatus
from app.db import transaction, utcnow
from app.job_runs import runs
from app.job_runs.models import JobRun, RunStatus
from tests.factories import login_as, make_client, make_quote, publish_short_cgv, runtime
from tests.factories.db import session_of
from tests.factories.drafts import asked_too_long_ago, first_version_asked
from tests.integration.helpers import user_id_of

SALES = "sales@example.test"  # the user `login_as(app, Role.SALES)` creates


def _generation_runs(app: Flask) -> list[JobRun]:
    with session_of(app) as session:
        return list(
            session.scalars(
                select(JobRun)
                .where(JobRun.name == tasks.generate_requested.name)
                .order_by(JobRun.id)
            )
        )


def _status(app: Flask, generation_id: int) -> GenerationStatus:
    with session_of(app) as session:
        return session.get_one(ContractGeneration, generation_id).status


def test_the_sweep_leaves_alone_a_generation_whose_job_waits_for_its_retry(app: Flask) -> None:
    publish_short_cgv(app)
    login_as(app, Role.SALES)
    generation_id = first_version_asked(
        app, make_quote(app, make_client(app)), user_id_of(app, SALES)
    )
    asked_too_long_ago(app, generation_id)
    # Its job failed once (the disk full a moment), as Huey's signals record it: the queue
    # retries it in 40 s.
    task = runs.TaskRef(
        "task-of-the-generation", tasks.generate_requested.name, [generation_id], {}
    )
    now = utcnow()
    with transaction(runtime(app).session_factory) as session:
        runs.started(session, task, now)
        runs.failed(session, task, now, error="OSError", retry_in=timedelta(seconds=40))

    tasks.sweep.run()

    [waiting] = _generation_runs(app)  # no second job chasing the generation
    assert waiting.status is RunStatus.RETRYING and waiting.attempts == 1
    assert _status(app, generation_id) is GenerationStatus.PENDING

    # Its retry was due long ago and never ran (the broker lost it): the sweep takes over.
    with transaction(runtime(app).session_factory) as session:
        session.execute(
            update(JobRun)
            .where(JobRun.id == waiting.id)
            .values(next_attempt_at=utcnow() - runs.LOST_AFTER - timedelta(seconds=1))
        )
    tasks.sweep.run()

    lost, taken_over = _generation_runs(app)
    assert lost.status is RunStatus.RELAUNCHED  # off the admins' page
    assert taken_over.status is RunStatus.COMPLETE and taken_over.args == [generation_id]
    assert _status(app, generation_id) is GenerationStatus.DONE

    tasks.sweep.run()  # nothing left to chase: no third run
    assert len(_generation_runs(app)) == 2
