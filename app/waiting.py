"""Commands that queue work for `paraphe worker` and, with `--wait`, follow it: `paraphe
contracts bulk`, `paraphe invoices run`. One way to offer the wait and to follow the workers,
so that both commands take the same options and show the same progress bar."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import click

POLL_SECONDS = 0.5
"""How often a waiting command reads where the queued work stands: the bar moves about twice
a second, and the reads cost the database little."""

F = TypeVar("F", bound=Callable[..., object])
P = TypeVar("P")


def wait_options(*, default_timeout: int, what: str) -> Callable[[F], F]:
    """`--wait` (follow `what` with a progress bar) and `--timeout` (at most this many seconds,
    exit code 1 beyond): the command receives `wait` and `timeout`."""

    def decorate(command: F) -> F:
        command = click.option(
            "--timeout",
            type=click.IntRange(1),
            default=default_timeout,
            show_default=True,
            help="Avec --wait : secondes d'attente au plus (code de sortie 1 au-delà).",
        )(command)
        return click.option("--wait", is_flag=True, help=what)(command)

    return decorate


def follow(
    *,
    total: int,
    label: str,
    timeout: int,
    read: Callable[[], P],
    done: Callable[[P], int],
) -> P:
    """Read the queued work's progress (`read`) until `done` of it reaches `total` or `timeout`
    seconds have passed, moving a progress bar; the last progress read."""
    deadline = time.monotonic() + timeout
    latest = read()
    with click.progressbar(length=total, label=label) as bar:
        bar.update(done(latest))
        while done(latest) < total and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            newer = read()
            bar.update(done(newer) - done(latest))
            latest = newer
    return latest
