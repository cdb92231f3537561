"""The collaborators a job runs with: those of the process's `Runtime`.

The application factory binds a provider of its runtime; a task reads it when it runs, so a
worker process (forked by `paraphe worker`) and the web process in inline mode run the same
task code with the same kind of collaborators. Each worker process opens its own database
connections (`fresh_connections`, run at the start of each)."""

from __future__ import annotations

from collections.abc import Callable

from app.db import utcnow
from app.runtime import Collaborators, Runtime

_provider: Callable[[], Runtime] | None = None


def bind(provider: Callable[[], Runtime]) -> None:
    global _provider
    _provider = provider


def runtime() -> Runtime:
    if _provider is None:
        raise RuntimeError("no runtime bound: create the application before running jobs")
    return _provider()


def collaborators() -> Collaborators:
    """The collaborators of one job, started now."""
    return runtime().collaborators(utcnow())


def fresh_connections() -> None:
    """In a forked worker process: forget the parent's pooled connections without closing
    them (they belong to the parent), so that this process opens its own."""
    if _provider is not None:
        _provider().engine.dispose(close=False)
