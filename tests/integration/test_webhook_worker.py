"""Webhooks through a real broker and `paraphe worker`: the commit of a change enqueues the
dispatch, the worker fans the event out and delivers it; a 500 is retried by the worker's
scheduler on the webhooks' own schedule (5 s first), then delivered once."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from standardwebhooks import Webhook

from app.config import Settings
from app.db import transaction, utcnow
from app.events.recording import Resource, record
from app.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from tests.factories import runtime, session_of
from tests.factories.webhooks import add_endpoint, create_endpoint, terminate_client
from tests.integration.webhook_receiver import Receiver, running_receiver
from tests.integration.worker_process import (
    WORKER_PROCESS_MARKS,
    queued_settings,
    running_worker,
    worker_log,
)

pytestmark = WORKER_PROCESS_MARKS

EVENTS = 30


def _posting_to_loopback(broker: str, settings: Settings, tmp_path: Path) -> Settings:
    """Queued on `broker`, webhooks allowed to the receivers on loopback."""
    return replace(queued_settings(broker, settings, tmp_path), webhooks_allow_private=True)


def _wait_for(receiver: Receiver, posts: int, poll: float) -> None:
    """Until `receiver` has `posts` POSTs or a minute went by (the test's asserts say which)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(receiver.received) < posts:
        time.sleep(poll)


def _record_events(app: Flask) -> None:
    """EVENTS quote.created events in one commit."""
    with transaction(runtime(app).session_factory) as session:
        for n in range(EVENTS):
            record(session, "quote.created", Resource("quote", n), {"n": n}, now=utcnow())


@pytest.mark.parametrize("broker", ["sqlite", "redis"])
def test_a_worker_delivers_and_retries_on_its_schedule(
    broker: str, settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    queued = _posting_to_loopback(broker, settings, tmp_path)
    app = make_app(queued)
    with running_receiver(statuses=[500]) as receiver:
        secret = add_endpoint(app, receiver.url).secret
        terminate_client(app)
        assert receiver.received == []  # the commit only enqueued the dispatch
        with running_worker(queued):
            _wait_for(receiver, 2, poll=0.2)
            time.sleep(1.0)  # time for a duplicate, which must not come
        assert len(receiver.received) == 2, worker_log(queued)[-4000:]
        for post in receiver.received:
            assert Webhook(secret).verify(post.body, post.headers)["type"] == "client.terminated"
    with session_of(app) as session:
        delivery = session.scalars(select(WebhookDelivery)).unique().one()
        assert delivery.status is DeliveryStatus.DELIVERED
        codes = [a.status_code for a in session.scalars(select(WebhookAttempt))]
        assert Counter(codes) == Counter([200, 500])


def test_a_slow_receiver_does_not_delay_the_others(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    """One worker process: 30 events to a receiver taking 0.5 s each and to a fast one. The
    fast one has them all while the slow one is still at its first ones (per-endpoint
    threads, `app.webhooks.pools`): without them it would wait 15 s behind the slow one,
    which would have had all of its events by then."""
    queued = _posting_to_loopback("sqlite", settings, tmp_path)
    app = make_app(queued)
    with running_receiver(delay_s=0.5) as slow, running_receiver() as fast:
        with transaction(runtime(app).session_factory) as session:
            for receiver in (slow, fast):
                create_endpoint(session, receiver.url, ["quote.created"])
        with running_worker(queued, workers=1):
            _record_events(app)
            _wait_for(fast, EVENTS, poll=0.1)
            slow_so_far = len(slow.received)
        assert len(fast.received) == EVENTS, worker_log(queued)[-4000:]
        # The slow one's threads each send a batch of 10, one after the other.
        assert slow_so_far < EVENTS


def test_a_backlog_is_sent_by_one_thread_per_batch(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    """30 events in one commit to a receiver taking 0.5 s each: the dispatch wakes one of
    the endpoint's threads per batch of 10, so three POSTs are under way at once. With one
    wake per endpoint, one thread sent the 30 one after the other (15 s)."""
    queued = _posting_to_loopback("sqlite", settings, tmp_path)
    app = make_app(queued)
    with running_receiver(delay_s=0.5) as slow:
        with transaction(runtime(app).session_factory) as session:
            create_endpoint(session, slow.url, ["quote.created"])
        with running_worker(queued, workers=1):
            _record_events(app)
            _wait_for(slow, EVENTS, poll=0.1)
        assert len(slow.received) == EVENTS, worker_log(queued)[-4000:]
        assert slow.most_in_flight >= 3
