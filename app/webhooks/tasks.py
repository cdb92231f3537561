"""The webhooks' jobs. `dispatch` runs after each commit that recorded events (the outbox
hook, wired by the application factory) and fans them out to deliveries; `deliver` makes one
attempt and schedules the next on the webhooks' own backoff (not Huey's retries: the schedule
spans more than a day and each attempt is logged); `sweep`, every minute, dispatches what a
lost dispatch left and re-enqueues deliveries whose job was lost."""

from __future__ import annotations

from app.db import transaction
from app.queue.context import collaborators
from app.queue.tasks import job, periodic
from app.webhooks import deliveries, workflow


@job("webhooks.deliver", retries=0)
def deliver(delivery_id: int) -> None:
    delay = workflow.deliver(collaborators(), delivery_id)
    if delay is not None:
        deliver.enqueue_in(delay.total_seconds(), delivery_id)


@job("webhooks.dispatch", retries=3)
def dispatch() -> None:
    for delivery_id in workflow.fan_out(collaborators()):
        deliver.enqueue(delivery_id)


@periodic("webhooks.sweep", minute="*")
def sweep() -> None:
    collab = collaborators()
    created = workflow.fan_out(collab)
    with transaction(collab.session_factory) as session:
        lost = [i for i in deliveries.due(session, collab.now) if i not in set(created)]
    for delivery_id in created + lost:
        deliver.enqueue(delivery_id)


def request_dispatch() -> None:
    """Called after a commit that recorded events (`app.events.outbox.install`)."""
    dispatch.enqueue()
