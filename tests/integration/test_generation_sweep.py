"""The contracts sweep chases a generation whose job was lost, not one whose job is still
waiting for its retry: one job per generation, one run on the admins' page."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select, update

from app.contracts import tasks
from app.contracts.models import GenerationStatus
from app.db import transaction, utcnow
from app.job_runs import runs
from app.job_runs.models import JobRun, RunStatus
from tests.factories import runtime
from tests.factories.db import session_of
from tests.factories.drafts import asked_too_long_ago
from tests.integration.generation_setup import asked_by_sales, generation_row


def _generation_runs(app: Flask) -> list[JobRun]:
    with session_of(app) as session:
        return list(
            session.scalars(
                select(JobRun)
                .where(JobRun.name == tasks.generate_requested.name)
                .order_by(JobRun.id)
            )
        )


def test_the_sweep_leaves_alone_a_generation_whose_job_waits_for_its_retry(app: Flask) -> None:
    generation_id = asked_by_sales(app).generation_id
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
    assert generation_row(app, generation_id).status is GenerationStatus.PENDING

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
    assert generation_row(app, generation_id).status is GenerationStatus.DONE

    tasks.sweep.run()  # nothing left to chase: no third run
    assert len(_generation_runs(app)) == 2
