"""The webhooks' jobs. `dispatch` runs after each commit that recorded events (the outbox
hook, wired by the application factory) and fans them out to deliveries; `deliver` makes one
attempt (inline) or wakes the endpoint's delivery threads (in a worker process, `pools`), and
a failed attempt is scheduled again on the webhooks' own backoff (not Huey's retries: the
schedule spans more than a day and each attempt is logged); `sweep`, every minute, dispatches
what a lost dispatch left and restarts deliveries whose job was lost."""

from __future__ import annotations

from app.db import transaction
from app.queue.context import collaborators
from app.queue.tasks import Priority, job, periodic
from app.webhooks import deliveries, pools, workflow


# Integrators are promised a delivery within a second of the change.
@job("webhooks.deliver", priority=Priority.HIGH, retries=0)
def deliver(delivery_id: int) -> None:
    """In a worker process: wake the delivery's endpoint pool (`pools`), which pulls its due
    deliveries; elsewhere (inline) one attempt here and now."""
    endpoint_pools = pools.active()
    if endpoint_pools is None:
        delay = workflow.deliver(collaborators(), delivery_id)
        if delay is not None:
            deliver.enqueue_in(delay.total_seconds(), delivery_id)
        return
    endpoint_id = workflow.endpoint_of(collaborators(), delivery_id)
    if endpoint_id is not None:
        endpoint_pools.wake(endpoint_id, _drain)


def _drain(endpoint_id: int) -> bool:
    """Attempts of the endpoint's next due deliveries (in a pool thread); False: none due.
    A delivery to retry is scheduled to wake the pool again when it is due."""
    attempted = workflow.deliver_batch(collaborators(), endpoint_id)
    for attempt in attempted:
        if attempt.retry_in is not None:
            deliver.enqueue_in(attempt.retry_in.total_seconds(), attempt.delivery_id)
    return bool(attempted)


# Fans an event out to the deliveries above.
@job("webhooks.dispatch", priority=Priority.HIGH, retries=3)
def dispatch() -> None:
    _start(workflow.fan_out(collaborators()))


def _start(delivery_ids: list[int]) -> None:
    """Get new or lost deliveries going: in a worker process, wake their endpoints' pools
    here (they pull every due delivery: no job per delivery); inline, one job each."""
    endpoint_pools = pools.active()
    if endpoint_pools is None:
        for delivery_id in delivery_ids:
            deliver.enqueue(delivery_id)
        return
    if delivery_ids:
        for endpoint_id, count in workflow.endpoints_of(collaborators(), delivery_ids).items():
            # One thread per batch of the backlog (up to the pool's size): one wake per
            # endpoint left a burst to a single thread, which sends its batches one after
            # the other (10 × 200 ms at a time to a slow receiver).
            for _ in range(-(-count // workflow.BATCH)):
                endpoint_pools.wake(endpoint_id, _drain)


@periodic("webhooks.sweep", minute="*")
def sweep() -> None:
    collab = collaborators()
    created = workflow.fan_out(collab)
    with transaction(collab.session_factory) as session:
        lost = [i for i in deliveries.due(session, collab.now) if i not in set(created)]
    _start(created + lost)


def request_dispatch() -> None:
    """Called after a commit that recorded events (`app.events.outbox.install`)."""
    dispatch.enqueue()
