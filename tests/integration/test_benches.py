"""Every bench in bench/ runs in --quick mode and ends with its JSON summary
(timings are not judged here; docs/benchmarks.md records measured figures)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.bench_runs import run_quick


def _positive_numbers(summary: dict[str, Any], keys: set[str]) -> None:
    for key in keys:
        value = summary[key]
        assert isinstance(value, int | float) and not isinstance(value, bool), key
        assert value > 0, key


@pytest.mark.slow
def test_restitution_bench_quick() -> None:
    _lines, summary = run_quick("restitution.py")
    assert summary["bench"] == "restitution"
    assert summary["docs"] == 20 and summary["docs_10x"] == 200
    _positive_numbers(
        summary, {"ratio", "ours_mb_s", "zip_mb_s", "peak_rss_mb", "peak_rss_10x_mb", "doc_kb"}
    )


@pytest.mark.slow
def test_api_bench_quick() -> None:
    configured = os.environ.get("DATABASE_URL", "")
    env = (
        {}
        if configured.startswith("postgresql")
        else {"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"}
    )
    _lines, summary = run_quick("api.py", env=env)
    assert summary["bench"] == "api"
    assert summary["docs"] == 2000 and summary["clients"] == 5
    assert summary["errors"] == 0
    _positive_numbers(
        summary, {"list_p50_ms", "list_p95_ms", "read_p50_ms", "read_p95_ms", "req_per_s"}
    )


@pytest.mark.slow
def test_contract_render_bench_quick() -> None:
    _lines, summary = run_quick("contract_render.py")
    assert summary["bench"] == "contract_render"
    assert summary["same_text"] is True and summary["page_footers_ok"] is True
    assert isinstance(summary["pages"], int) and summary["pages"] >= 5
    assert summary["rounds"] == 1
    _positive_numbers(
        summary, {"ours_ms", "naive_ms", "ratio", "peak_mb_100_pages", "first_render_ms"}
    )


@pytest.mark.slow
def test_contracts_bulk_bench_quick() -> None:
    lines, summary = run_quick("contracts_bulk.py")
    assert summary["bench"] == "contracts_bulk"
    assert summary["contracts"] == 2
    assert any("contrats/s" in line for line in lines)
    _positive_numbers(summary, {"per_second", "ms_per_contract", "wall_s"})


@pytest.mark.slow
def test_journey_bench_quick() -> None:
    """On the run's database: PostgreSQL when DATABASE_URL says so, else the bench's SQLite
    fallback (which says so)."""
    configured = os.environ.get("DATABASE_URL", "")
    on_postgres = configured.startswith("postgresql")
    lines, summary = run_quick(
        "journey.py", env={"DATABASE_URL": configured if on_postgres else "sqlite://"}
    )
    assert summary["bench"] == "journey"
    assert summary["journeys"] == 2
    assert summary["database"] == ("postgresql" if on_postgres else "sqlite")
    assert any(line.startswith("Note :") for line in lines) is not on_postgres
    assert any(line.startswith("== inline (") and " s, 0\u00a0échec) ==" in line for line in lines)
    assert not any("(s)" in line for line in lines), lines
    for mode in ("inline", "queue"):
        assert summary[f"{mode}_errors"] == 0
        _positive_numbers(
            summary,
            {
                f"{mode}_sign_p95_ms",
                f"{mode}_page_p95_ms",
                f"{mode}_seal_p50_s",
                f"{mode}_seal_p95_s",
                f"{mode}_wall_s",
            },
        )


def test_invoices_bench_quick_with_the_queue() -> None:
    """The in-process paths and the queue's, with 1 then 2 real `paraphe worker` processes."""
    lines, summary = run_quick("invoices.py", "--workers-processes", "2")
    assert summary["bench"] == "invoices" and summary["count"] == 2
    assert set(summary["queue_per_s"]) == {"1", "2"}
    assert all(rate > 0 for rate in summary["queue_per_s"].values())
    assert any("2 workers / 1 worker" in line for line in lines)
    assert any("file, 1\u00a0worker :" in line for line in lines), lines
    assert any("file, 2\u00a0workers :" in line for line in lines), lines
    assert not any("(s)" in line for line in lines), lines
    _positive_numbers(summary, {"naive_per_s", "service_per_s", "queue_scaling_2_over_1"})


@pytest.mark.slow
def test_webhooks_bench_quick() -> None:
    """300 events to 3 loopback endpoints (one slow) with 1 then 2 worker processes; the
    database of the run (SQLite unless DATABASE_URL names PostgreSQL)."""
    lines, summary = run_quick("webhooks.py")
    assert summary["bench"] == "webhooks" and summary["events"] == 300
    assert any("livraisons/s" in line for line in lines)
    _positive_numbers(
        summary,
        {
            "events_per_second",
            "per_second_1_worker",
            "per_second_2_workers",
            "fast_p95_ms_1_worker",
            "fast_p95_ms_2_workers",
            "slow_p95_ms_1_worker",
            "slow_p95_ms_2_workers",
        },
    )


@pytest.mark.slow
def test_backup_bench_quick() -> None:
    lines, summary = run_quick("backup.py")
    assert summary["bench"] == "backup"
    assert summary["documents"] == 200 and summary["restored"] == 202
    assert summary["incremental_copied"] == 2
    # counts in words with their real plural, never « copie(s) »
    assert any(", 2\u00a0copies, " in line for line in lines), lines
    assert any(", 202\u00a0fichiers, " in line for line in lines), lines
    assert not any("(s)" in line for line in lines), lines
    _positive_numbers(summary, {"full_s", "full_mb", "incremental_s", "restore_s"})


@pytest.mark.slow
def test_cgv_notify_bench_quick() -> None:
    """A CGV version published through its preview to 200 clients, notified by a real worker
    with 1 then 2 processes (the bench broke silently once when publication gained its preview)."""
    _lines, summary = run_quick("cgv_notify.py")
    assert summary["bench"] == "cgv_notify" and summary["clients"] == 200
    _positive_numbers(
        summary, {"request_ms", "per_second_1_worker", "per_second_2_workers", "speedup"}
    )
