"""Every job the application declares has its French name on « Travaux en échec »: a new
`@job` / `@periodic` without an entry in app.job_runs.labels fails here."""

from __future__ import annotations

from app.factory import TASK_MODULES
from app.queue.tasks import Job
from app.rendering.labels import TASK_LABELS


def _declared_names() -> set[str]:
    # The jobs as the processes know them: the modules every process imports (app.factory).
    return {
        value.name
        for module in TASK_MODULES
        for value in vars(module).values()
        if isinstance(value, Job)
    }


def test_every_declared_job_has_a_french_label() -> None:
    names = _declared_names()
    assert "signatures.seal" in names  # the walk over the modules finds the jobs
    assert sorted(names - TASK_LABELS.keys()) == []


def test_every_label_names_a_declared_job() -> None:
    # A renamed or removed job leaves no stale entry behind.
    assert sorted(TASK_LABELS.keys() - _declared_names()) == []


def test_the_walk_of_the_brief_reads_in_french() -> None:
    assert TASK_LABELS["signatures.seal"] == "Scellement du contrat signé"
    assert TASK_LABELS["contracts.generate"] == "Génération du contrat"
    assert TASK_LABELS["mail.deliver"] == "Envoi d'un courriel"
    labels = list(TASK_LABELS.values())
    assert len(set(labels)) == len(labels)  # two jobs never read the same
