"""bench/sign.py runs and reports its figures as one JSON object (timings are not judged)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bench_runs import run_quick


def run_sign(*args: str) -> dict[str, Any]:
    return run_quick("sign.py", *args)[1]


def check_figures(summary: dict[str, Any], keys: tuple[str, ...]) -> None:
    expected = {"bench", "level", "pages", "iterations"}
    expected |= {f"{k}_{f}" for k in keys for f in ("ours_ms", "baseline_ms", "ratio")}
    assert set(summary) == expected
    assert summary["bench"] == "sign"
    assert summary["level"] == "B-B"
    assert summary["iterations"] == 3
    assert isinstance(summary["pages"], int) and summary["pages"] > 0
    for key in expected - {"bench", "level", "pages", "iterations"}:
        value = summary[key]
        assert isinstance(value, int | float) and not isinstance(value, bool), key
        assert value > 0, key


@pytest.mark.slow
def test_quick_run_measures_every_key_type_and_ends_with_a_json_summary() -> None:
    check_figures(run_sign(), ("rsa", "rsa3072", "ecdsa"))


@pytest.mark.slow
def test_quick_pkcs11_run_signs_with_a_softhsm_token() -> None:
    check_figures(run_sign("--key", "pkcs11"), ("pkcs11",))


@pytest.mark.slow
def test_lta_quick_run_counts_http_requests_per_document() -> None:
    summary = run_sign("--level", "lta")

    assert summary["bench"] == "sign" and summary["level"] == "B-LTA"
    assert summary["documents"] == 3
    # Certification, three signers and the seal each timestamped, plus the document timestamp.
    assert summary["timestamps_per_document"] == 6
    # One TSA request per timestamp; revocation data fetched for the first document only.
    assert summary["tsa_requests_per_document"] == summary["timestamps_per_document"]
    assert summary["requests_per_document"] == summary["tsa_requests_per_document"]
    assert summary["revocation_requests_first"] > 0
    assert summary["first_document_requests"] == (
        summary["requests_per_document"] + summary["revocation_requests_first"]
    )
    assert isinstance(summary["ms_per_document"], int | float) and summary["ms_per_document"] > 0
