"""Job priorities on the real brokers: a worker takes what a person is waiting for first.

One FIFO queue made invitation mails wait over 30 s behind the contract generations and page
images queued before them when 20 sales users sent at once (bench/journey.py). Each broker
(SQLite file, Redis, PostgreSQL) is asked for its jobs in the order a worker takes them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from huey.storage import RedisStorage

from app.config import Settings
from app.queue import broker
from app.queue.broker import huey
from app.queue.settings import QUEUE_INLINE
from app.queue.tasks import Priority, declared
from tests.integration.worker_process import brokers, queued_settings


@pytest.fixture
def queue_on(settings: Settings, tmp_path: Any) -> Iterator[Any]:
    """Points the jobs at a real broker under a queue name of the test's own; back to inline
    (the other tests' mode) afterwards, the queue emptied."""

    def point(name: str) -> Settings:
        queued = queued_settings(name, settings, tmp_path)
        broker.configure(queued.queue_url, queued.queue_name)
        return queued

    yield point
    huey.storage.flush_queue()
    broker.configure(QUEUE_INLINE)


def _taken_in_order() -> list[tuple[str, tuple[Any, ...]]]:
    """The queued jobs as a worker takes them, one dequeue at a time, until none is left."""
    taken = []
    while (task := huey.dequeue()) is not None:
        taken.append((task.name, tuple(task.args)))
    return taken


@pytest.mark.parametrize("name", brokers())
def test_a_worker_takes_what_a_person_waits_for_first(queue_on: Any, name: str) -> None:
    queue_on(name)
    # Queued in the worst order: what nobody watches first, the invitation mail last.
    declared("contracts.generate").enqueue(1, 1, [], None)
    declared("archive.build_restitution").enqueue(7)
    declared("signatures.page_images").enqueue(3)
    declared("contracts.generate_requested").enqueue(4)
    declared("signatures.seal").enqueue(5)
    declared("mail.deliver").enqueue(10)
    declared("signatures.sign").enqueue(6)
    declared("mail.deliver").enqueue(11)

    taken = _taken_in_order()

    assert taken == [
        # Immediate, oldest first among equals: the mail, the signature, the second mail.
        ("mail.deliver", (10,)),
        ("signatures.sign", (6,)),
        ("mail.deliver", (11,)),
        ("signatures.seal", (5,)),
        ("signatures.page_images", (3,)),
        ("contracts.generate_requested", (4,)),
        ("contracts.generate", (1, 1, [], None)),
        ("archive.build_restitution", (7,)),
    ]


def test_every_declared_job_has_the_rank_its_people_need() -> None:
    """The ranks the journey needs, named: a change that lowers one shows here."""
    ranks = {
        name: declared(name).priority
        for name in (
            "mail.deliver",
            "signatures.sign",
            "signatures.seal",
            "webhooks.deliver",
            "signatures.page_images",
            "contracts.generate_requested",
            "invoices.produce_pdf",
            "terms.notify",
            "contracts.generate",
            "signatures.sweep",
        )
    }
    assert ranks["mail.deliver"] == ranks["signatures.sign"] == Priority.IMMEDIATE
    assert ranks["signatures.seal"] == ranks["webhooks.deliver"] == Priority.HIGH
    assert (
        ranks["signatures.page_images"]
        == ranks["contracts.generate_requested"]
        == ranks["invoices.produce_pdf"]
        == Priority.NORMAL
    )
    assert ranks["terms.notify"] == ranks["contracts.generate"] == Priority.LOW
    assert ranks["signatures.sweep"] == Priority.PERIODIC


def test_redis_jobs_left_in_a_list_by_a_release_without_priorities_are_taken_over(
    queue_on: Any,
) -> None:
    queued = queue_on("redis")
    # What the previous release wrote: Huey's plain Redis storage, a list in the same key.
    legacy = RedisStorage(name=queued.queue_name, url=queued.queue_url)
    first = huey.serialize_task(declared("mail.deliver")._wrapper.s(21))
    second = huey.serialize_task(declared("contracts.generate_requested")._wrapper.s(22))
    legacy.enqueue(first)
    legacy.enqueue(second)
    assert legacy.conn.type(legacy.queue_key) == b"list"

    broker.configure(QUEUE_INLINE)  # a new process starts on the same Redis
    broker.configure(queued.queue_url, queued.queue_name)
    declared("signatures.sign").enqueue(23)  # WRONGTYPE on a list: it would be lost

    assert legacy.conn.type(legacy.queue_key) == b"zset"
    assert _taken_in_order() == [
        ("signatures.sign", (23,)),
        ("mail.deliver", (21,)),  # the old jobs in their order, none lost
        ("contracts.generate_requested", (22,)),
    ]
    legacy.conn.delete(f"{legacy.queue_key}.fifo")
