"""bench/invoices.py runs and reports its figures as one JSON object (timings are not judged)."""

from __future__ import annotations

import pytest

from tests.bench_runs import run_quick


@pytest.mark.slow
def test_quick_run_ends_with_a_json_summary() -> None:
    summary = run_quick("invoices.py", "--workers", "2")[1]
    assert set(summary) == {
        "bench",
        "count",
        "workers",
        "naive_per_s",
        "service_per_s",
        "ratio",
        "naive_cpu_ms",
        "service_cpu_ms",
        "goal_ratio",
        "queue_per_s",
        "queue_scaling_2_over_1",
        "goal_queue_scaling",
    }
    assert summary["bench"] == "invoices" and summary["count"] == 2 and summary["workers"] == 2
    assert summary["naive_per_s"] > 0 and summary["service_per_s"] > 0
    # without --workers-processes the queue is not measured (tests/integration/test_benches.py
    # runs it with real workers)
    assert summary["queue_per_s"] == {} and summary["queue_scaling_2_over_1"] is None
    assert summary["ratio"] == pytest.approx(
        summary["service_per_s"] / summary["naive_per_s"], rel=0.01
    )
