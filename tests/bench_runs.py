"""Running a bench of bench/ as CI does: `--quick`, in a subprocess, its figures read from the
JSON object it prints last (timings are not judged by the tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_quick(
    script: str, *options: str, env: Mapping[str, str] | None = None
) -> tuple[list[str], dict[str, Any]]:
    """The bench's output lines and its summary; `env` adds to this process's environment."""
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / script), "--quick", *options],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) > 1, "a human-readable summary comes before the JSON line"
    summary = json.loads(lines[-1])
    assert isinstance(summary, dict)
    return lines, summary
