"""CGV acceptances, recorded through the service in the caller's transaction (no HTTP)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.terms.acceptances import record_acceptance
from app.terms.models import AcceptanceMethod, CgvVersion
from tests.factories.sales import VALID_CLIENT


def accept_version(
    session: Session,
    client_id: int,
    version: CgvVersion,
    *,
    now: datetime,
    method: AcceptanceMethod = AcceptanceMethod.CLICK_THROUGH,
) -> None:
    """The client's signer accepts ``version`` as it was shown (its own hash) at ``now``, with
    no browser behind the record (no IP address, no user agent)."""
    record_acceptance(
        session,
        client_id=client_id,
        version=version,
        shown_sha256=version.sha256,
        person_name=VALID_CLIENT["signer_name"],
        person_email=VALID_CLIENT["signer_email"],
        method=method,
        now=now,
        ip=None,
        user_agent=None,
        actor="test",
    )
