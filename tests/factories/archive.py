"""The end of a client's contract as the archive records it, through the service (no HTTP)."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from app.archive.services import retention as archive
from app.clients.models import Client
from app.db import transaction
from tests.factories.db import runtime


def terminate_in_archive(app: Flask, client_id: int, *, on: date, now: datetime) -> None:
    """The client's subscription ended ``on``, recorded at ``now``: the retention of its
    documents now runs from that date, under the instance's rules."""
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        archive.terminate_client(
            session,
            rt.store,
            session.get_one(Client, client_id),
            on=on,
            reason="fin d'abonnement",
            policy=rt.settings.retention,
            actor="test",
            now=now,
        )
