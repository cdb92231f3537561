"""bench/invoices.py runs and reports its figures as one JSON object (timings are not judged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH = REPO_ROOT / "bench" / "invoices.py"


@pytest.mark.slow
def test_quick_run_ends_with_a_json_summary() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--workers", "2"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) > 1, "a human-readable summary comes before the JSON line"
    summary = json.loads(lines[-1])
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
