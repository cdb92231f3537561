"""The one Huey instance and where its jobs wait.

Why Huey (docs/architecture.md, "Travaux en arrière-plan"): one library whose same task code
runs on SQLite (the embedded default: a file beside the database, one machine), on PostgreSQL
or on Redis (several machines), and in its documented immediate mode (each job runs in the
process that enqueues it: the tests, a one-off command). It has retries with exponential
backoff, periodic tasks run by its consumer, locks with a lifetime, and process workers.

The instance exists at import time, so that features can declare their tasks with the
decorators of `app.queue.tasks`; `configure` points it at the broker of the settings before
anything is enqueued (the application factory and `paraphe worker` call it)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from huey import Huey
from huey.storage import PostgresStorage, PriorityRedisStorage, SqliteStorage

from app.queue.settings import QUEUE_INLINE

huey = Huey("paraphe", results=False, immediate=True, utc=True)
"""Results are not kept: the state that matters (sealed, sent, notified) is in the
application's database, where pages read it; a job's runs and failures are
recorded by `app.job_runs.recording`."""


def configure(queue_url: str, name: str = "paraphe") -> None:
    """Point the jobs at `queue_url`: "inline" (immediate mode, in-memory schedule), or a
    sqlite:///, postgresql:// or redis:// broker, on which they wait under `name`."""
    huey.name = name
    # A process configured twice (the tests build one application each) closes the broker
    # connection it had: left to the garbage collector, psycopg warns that it was still open.
    previous = huey.storage
    if queue_url == QUEUE_INLINE:
        huey.immediate = True
    else:
        storage_class, kwargs = storage_for(queue_url)
        huey.storage_class = storage_class
        huey.storage_kwargs = kwargs
        huey.immediate = False  # leaving immediate mode, Huey builds the new storage itself
        if huey.storage is previous:
            huey.storage = huey.create_storage()
    if huey.storage is not previous:
        previous.close()


def storage_for(queue_url: str) -> tuple[type[Any], dict[str, Any]]:
    """Huey's storage class and arguments for a broker URL (already validated by Settings)."""
    parts = urlsplit(queue_url)
    scheme = parts.scheme.split("+")[0]
    if scheme == "sqlite":
        # sqlite:///relative or sqlite:////absolute, as SQLAlchemy writes them.
        return SqliteStorage, {"filename": queue_url.split("://", 1)[1][1:] or "queue.db"}
    if scheme in {"postgresql", "postgres"}:
        # The jobs' tables (huey_task, huey_schedule…) may live in the application's database:
        # Alembic leaves tables named huey_* alone (app/migrations/env.py).
        dsn = parts._replace(scheme="postgresql").geturl()
        return PostgresStorage, {"dsn": dsn}
    # Redis: the sorted-set queue (Redis >= 5), since jobs have priorities; Huey's plain
    # RedisStorage is a list and refuses them.
    return QueueOnRedis, {"url": queue_url}


def is_inline() -> bool:
    return bool(huey.immediate)


class QueueOnRedis(PriorityRedisStorage):
    """Huey's priority queue on Redis, taking over the jobs a release without priorities left
    waiting in the same key as a Redis list: the key would otherwise answer WRONGTYPE to every
    enqueue, and those jobs would be lost."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._adopt_list_queue()

    def _adopt_list_queue(self) -> None:
        if self.conn.type(self.queue_key) not in (b"list", "list"):
            return
        # RENAME is atomic: a job pushed by an older process after it starts a new list,
        # taken over by the next process that starts. The list's oldest job is on the right.
        legacy = f"{self.queue_key}.fifo"
        self.conn.rename(self.queue_key, legacy)
        while (data := self.conn.rpop(legacy)) is not None:
            self.enqueue(data, 0)
