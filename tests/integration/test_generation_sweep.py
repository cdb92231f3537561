"""The contracts sweep chases a generation whose job was lost, not one whose job is still
waiting for its retry: one job per generation, one run on the admins' page."""

from __future__ import annotations

from flask import Flask

from app.contracts import tasks
from app.contracts.models import GenerationStatus
from app.job_runs import runs
from app.job_runs.models import JobRun, RunStatus
from tests.factories.drafts import asked_too_long_ago
from tests.integration.generation_setup import asked_by_sales, generation_row
from tests.integration.lost_jobs import aged_past, failed_once, runs_named


def _generation_runs(app: Flask) -> list[JobRun]:
    return runs_named(app, tasks.generate_requested.name)


def test_the_sweep_leaves_alone_a_generation_whose_job_waits_for_its_retry(app: Flask) -> None:
    generation_id = asked_by_sales(app).generation_id
    asked_too_long_ago(app, generation_id)
    task = runs.TaskRef("generation-task", tasks.generate_requested.name, [generation_id], {})
    failed_once(app, task, "OSError")  # the disk full a moment

    tasks.sweep.run()

    [waiting] = _generation_runs(app)  # no second job chasing the generation
    assert waiting.status is RunStatus.RETRYING and waiting.attempts == 1
    assert generation_row(app, generation_id).status is GenerationStatus.PENDING

    # Its retry was due long ago and never ran (the broker lost it): the sweep takes over.
    aged_past(app, JobRun.next_attempt_at, waiting.id, runs.LOST_AFTER)
    tasks.sweep.run()

    lost, taken_over = _generation_runs(app)
    assert lost.status is RunStatus.RELAUNCHED  # off the admins' page
    assert taken_over.status is RunStatus.COMPLETE and taken_over.args == [generation_id]
    assert generation_row(app, generation_id).status is GenerationStatus.DONE

    tasks.sweep.run()  # nothing left to chase: no third run
    assert len(_generation_runs(app)) == 2
