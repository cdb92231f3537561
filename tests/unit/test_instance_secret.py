"""The per-installation secret: created once, private, and the same for every process that
starts on a fresh instance at the same moment (a server and a worker)."""

from __future__ import annotations

import multiprocessing
import stat
from multiprocessing.synchronize import Barrier
from pathlib import Path

from app.instance_secret import instance_secret

PROCESSES = 6
ROUNDS = 20  # the window between two processes is short: several races make one likely


def _race(instance_dir: Path, start: Barrier, results: multiprocessing.Queue[str]) -> None:
    start.wait()  # every process reaches the empty instance folder at the same moment
    try:
        results.put(instance_secret(instance_dir))
    except Exception as exc:  # reported to the test rather than lost in a child's stderr
        results.put(f"échec : {exc!r}")


def test_processes_starting_together_share_one_secret(tmp_path: Path) -> None:
    # fork: the children run this module's function without re-importing the test package.
    ctx = multiprocessing.get_context("fork")
    for round_ in range(ROUNDS):
        instance_dir = tmp_path / f"instance-{round_}"
        start = ctx.Barrier(PROCESSES)
        results: multiprocessing.Queue[str] = ctx.Queue()
        children = [
            ctx.Process(target=_race, args=(instance_dir, start, results)) for _ in range(PROCESSES)
        ]
        for child in children:
            child.start()
        secrets_seen = [results.get(timeout=30) for _ in children]
        for child in children:
            child.join(timeout=30)

        path = instance_dir / "secret_key"
        assert set(secrets_seen) == {path.read_text().strip()}, secrets_seen
        assert len(secrets_seen[0]) >= 48
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        # Only the secret is left: every candidate's temporary file was removed.
        assert [p.name for p in instance_dir.iterdir()] == ["secret_key"]


def test_the_secret_is_created_once_then_reused(tmp_path: Path) -> None:
    first = instance_secret(tmp_path)
    assert instance_secret(tmp_path) == first
    assert (tmp_path / "secret_key").read_text() == first
