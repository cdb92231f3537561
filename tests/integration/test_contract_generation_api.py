"""`POST /api/v1/quotes/{id}/contract` through the queue: answered 202 at once with the
pending generation, twenty requests at once (no idempotency key: a CRM retrying) make one
generation, and the status resource follows it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from app.config import Settings
from app.contracts.models import ContractGeneration, ContractVersion
from tests.factories import count, crm_writer, quote_ready_for_contract
from tests.integration.worker_process import queued_settings
from tests.together import PARALLEL, at_once


@pytest.mark.committed_db  # the requests' threads each commit in their own connection
@pytest.mark.real_clock
def test_twenty_api_requests_at_once_make_one_pending_generation(
    settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path
) -> None:
    # A queue no worker reads: the generation stays pending, as while a worker renders.
    app = make_app(queued_settings("sqlite", settings, tmp_path))
    quote_id = quote_ready_for_contract(app)
    headers = crm_writer(app)

    responses = at_once(
        lambda: app.test_client().post(
            f"/api/v1/quotes/{quote_id}/contract",
            json={"free_text": "Interlocuteur dédié."},
            headers=headers,
        )
    )

    assert sorted(r.status_code for r in responses) == [202] * PARALLEL
    assert count(app, ContractGeneration) == 1
    bodies = [r.get_json() for r in responses]
    assert len({b["id"] for b in bodies}) == 1
    assert {b["status"] for b in bodies} == {"pending"}
    location = responses[0].headers["Location"]
    assert {r.headers["Location"] for r in responses} == {location}
    status = app.test_client().get(location, headers=headers)
    assert status.status_code == 200
    assert status.get_json()["status"] == "pending"
    assert status.get_json()["message"] == "Génération du contrat en cours…"
    assert count(app, ContractVersion) == 0
