"""`paraphe worker`: a Huey consumer running the jobs of every feature, with the scheduler of
the periodic ones (the former cron lines).

Process workers: signing and rendering are CPU-bound and hold the GIL, so threads would not
add capacity. Each worker process opens its own database connections. Several `paraphe worker`
on several machines share one broker (PostgreSQL or Redis); run the scheduler on one of them
only (`--no-periodic` on the others): a periodic job that is enqueued twice is harmless all
the same (a lock per job, idempotent work)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask.cli import with_appcontext

from app.job_runs import pulse
from app.queue import context
from app.queue.broker import huey, is_inline
from app.webhooks import pools as webhook_pools
from app.wiring import runtime

MAX_POLL_DELAY_S = 0.5
"""Longest wait between two looks at an empty SQLite or PostgreSQL queue (Redis blocks until a
job comes). Huey's default grows to 10 s when idle: a signer's one-time code mail would wait
that long, and a seal enqueued after a quiet minute would take twice the 5 s budget from the
last signature to the archived PDF (docs/benchmarks.md, bench/journey.py). Two indexed
queries per second and per worker process cost nothing next to that."""


_Command = TypeVar("_Command", bound=Callable[..., Any])


def processes_option(envvar: str, help_text: str | None = None) -> Callable[[_Command], _Command]:
    """`--workers`: how many processes, one per core unless told. The job worker and the web
    server (`paraphe serve`) both run CPU-bound work in processes, so both size themselves
    the same way."""
    return click.option(
        "--workers",
        default=lambda: os.cpu_count() or 2,
        show_default="un par cœur",
        type=click.IntRange(1),
        envvar=envvar,
        help=help_text,
    )


@click.command("worker", help="Exécute les travaux en arrière-plan (file de travaux Huey).")
@processes_option("PARAPHE_JOB_WORKERS", "Nombre de processus qui exécutent les travaux.")
@click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Planifie aussi les travaux périodiques (un seul worker par déploiement suffit).",
)
@with_appcontext
def worker_command(workers: int, periodic: bool) -> None:
    if is_inline():
        raise click.UsageError(
            "PARAPHE_QUEUE_URL=inline : chaque travail s'exécute dans le processus qui le "
            "demande, il n'y a pas de file à consommer. Indiquez sqlite:///…, postgresql://… "
            "ou redis://…"
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    runtime().engine.dispose()  # the children open their own connections
    huey.on_startup("fresh-connections")(context.fresh_connections)
    # Webhook deliveries on per-endpoint threads: a slow receiver delays no other.
    huey.on_startup("webhook-pools")(webhook_pools.start)
    huey.on_shutdown("webhook-pools")(webhook_pools.stop)
    # Each process says it is alive (`/sante`, and the staff pages' warning when none is).
    huey.on_startup("heartbeat")(pulse.start)
    huey.on_shutdown("heartbeat")(pulse.stop)
    consumer = huey.create_consumer(
        workers=workers,
        worker_type="process",
        periodic=periodic,
        check_worker_health=True,
        max_delay=MAX_POLL_DELAY_S,
    )
    click.echo(f"Worker : {workers} processus, travaux périodiques {'oui' if periodic else 'non'}.")
    consumer.run()
