"""The contracts sweep chases a generation whose job was lost, not one whose job is still
waiting for its retry: one job per generation, one run on the admins' page."""

from __future__ import annotations

from flask import Flask

from app.contracts import tasks
from app.contracts.models import GenerationStatus
from app.job_runs import runs
from app.job_runs.models import JobRun
from tests.factories.drafts import asked_too_long_ago
from tests.integration.generation_setup import asked_by_sales, generation_row
from tests.integration.lost_jobs import (
    failed_once,
    runs_named,
    sweep_waits_for_the_retry_then_takes_over,
)


def _generation_runs(app: Flask) -> list[JobRun]:
    return runs_named(app, tasks.generate_requested.name)


def test_the_sweep_leaves_alone_a_generation_whose_job_waits_for_its_retry(app: Flask) -> None:
    generation_id = asked_by_sales(app).generation_id
    asked_too_long_ago(app, generation_id)
    task = runs.TaskRef("generation-task", tasks.generate_requested.name, [generation_id], {})
    failed_once(app, task, "OSError")  # the disk full a moment

    statuses = sweep_waits_for_the_retry_then_takes_over(
        app, tasks.sweep.run, task, lambda: generation_row(app, generation_id).status
    )
    assert statuses == (GenerationStatus.PENDING, GenerationStatus.DONE)

    tasks.sweep.run()  # nothing left to chase: no third run
    assert len(_generation_runs(app)) == 2
