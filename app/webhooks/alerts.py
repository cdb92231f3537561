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
from app.rendering.french import format_datetime
from app.webhooks.models import WebhookEndpoint


def endpoint_page(base_url: str, endpoint_id: int) -> str:
    return f"{base_url}/admin/webhooks/{endpoint_id}"


def failing_mail(endpoint: WebhookEndpoint, to: str, page: str) -> OutgoingMail:
    assert endpoint.failing_since is not None
    return OutgoingMail(
        to=to,
        subject=f"Webhook en échec : point de réception n° {endpoint.id}",
        text=(
            "Bonjour,\n\n"
            f"Le point de réception de webhooks n° {endpoint.id} ({endpoint.url}) est en échec "
            f"depuis le {format_datetime(endpoint.failing_since)} : une livraison n'a reçu "
            "aucune réponse 2xx après toutes ses tentatives (plus de 24 heures).\n\n"
            "Corrigez le récepteur, puis renvoyez les livraisons échouées depuis la page du "
            f"point de réception :\n{page}\n\n"
            "La prochaine livraison acceptée lève l'alerte. Vous ne recevrez pas d'autre "
            "message pour cet échec.\n"
        ),
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
