"""The mail that tells the admins an endpoint is failing: once per failing period. The key of
the mail outbox holds it: the period starts at `failing_since`, so a second delivery failing
for good in the same period inserts nothing, and after a recovery (the next accepted delivery
clears `failing_since`) a new failure is a new period and a new mail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.mail import OutgoingMail
from app.mail.outbox import enqueue_mail
from app.rendering.mail_text import render_mail
from app.webhooks.models import WebhookEndpoint


def endpoint_page(base_url: str, endpoint_id: int) -> str:
    return f"{base_url}/admin/webhooks/{endpoint_id}"


def failing_mail(endpoint: WebhookEndpoint, to: str, page: str) -> OutgoingMail:
    """Written in `app/templates/mails/webhooks/failing.txt`."""
    assert endpoint.failing_since is not None
    return render_mail(
        "webhooks/failing.txt",
        to,
        endpoint_id=endpoint.id,
        url=endpoint.url,
        failing_since=endpoint.failing_since,
        page=page,
    )


def tell_admins(
    session: Session, endpoint: WebhookEndpoint, *, base_url: str, now: datetime
) -> int:
    """Queue the mail to each active admin, in the caller's transaction; how many queued."""
    assert endpoint.failing_since is not None
    admins = session.scalars(
        select(User.email).where(User.role == Role.ADMIN, User.active.is_(True)).order_by(User.id)
    ).all()
    page = endpoint_page(base_url, endpoint.id)
    period = endpoint.failing_since.isoformat()
    for address in admins:
        enqueue_mail(
            session,
            failing_mail(endpoint, address, page),
            now=now,
            key=f"webhook-failing:{endpoint.id}:{period}:{address}",
        )
    return len(admins)
