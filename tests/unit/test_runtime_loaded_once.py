"""`app.runtime.LoadedOnce`, which holds the process's seal key, signing key and trust services:
loading a key costs more than signing with it, so threads that ask together load it once."""

from __future__ import annotations

import threading
import time

import pytest

from app.runtime import LoadedOnce


def test_threads_asking_together_load_the_value_once() -> None:
    held: LoadedOnce[object] = LoadedOnce()
    loads: list[object] = []
    start = threading.Barrier(8)
    got: list[object] = []

    def load() -> object:
        time.sleep(0.05)  # long enough for the other threads to arrive while it loads
        value = object()
        loads.append(value)
        return value

    def ask() -> None:
        start.wait()
        got.append(held.get(load))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1
    assert got == loads * 8


def test_a_failed_load_keeps_nothing_and_the_next_call_loads_again() -> None:
    held: LoadedOnce[str] = LoadedOnce()

    def broken() -> str:
        raise OSError("clé illisible")

    with pytest.raises(OSError, match="clé illisible"):
        held.get(broken)
    assert held.get(lambda: "clé") == "clé"
    assert held.get(lambda: "autre") == "clé"  # kept: the second loader is never called
