"""Many active clients at once, inserted by one multi-row statement (the services would take
minutes for 10,000): the large publications of tests/integration/test_cgv_background.py and
bench/cgv_notify.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from app.clients.models import Client, ClientStatus
from app.db import transaction


def client_email(n: int) -> str:
    return f"client{n}@example.fr"


def seed_active_clients(factory: sessionmaker[Session], count: int, now: datetime) -> None:
    """``count`` active French clients, client0@example.fr … (one commit)."""
    rows = [
        {
            "legal_name": f"Client {n} SAS",
            "siren": "552100554",
            "vat_number": "FR96552100554",
            "address": f"{n} rue de la République",
            "postal_code": "69002",
            "city": "Lyon",
            "country": "FR",
            "signer_name": f"Signataire {n}",
            "signer_email": client_email(n),
            "status": ClientStatus.ACTIVE,
            "created_at": now,
        }
        for n in range(count)
    ]
    with transaction(factory) as session:
        session.execute(insert(Client), rows)
