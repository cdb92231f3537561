"""A contract generation whose render keeps failing (the disk full, WeasyPrint crashing) is
given up after `requested.MAX_RENDER_ATTEMPTS` crashes, whether they come from the job's
retries or from the sweep enqueuing it again: it ends failed with a French reason, the sweep
leaves it alone, its page and the API say what to do, and a retry makes a new generation."""

from __future__ import annotations

import pytest
from flask import Flask

from app.auth.models import Role
from app.contracts import requested, tasks
from app.contracts.models import ContractGeneration, ContractVersion, GenerationStatus
from storage import FilesystemBlobStore
from tests.conftest import csrf_from
from tests.factories import (
    count,
    crm_writer,
    login_as,
    quote_ready_for_contract,
)
from tests.factories.db import session_of
from tests.factories.drafts import asked_too_long_ago
from tests.integration.generation_setup import FullDisk, asked_by_sales, generation_row, use_store


def test_a_render_that_keeps_failing_ends_failed_and_sales_retry_it(app: Flask) -> None:
    asked = asked_by_sales(app, free_text="Support dédié.")
    sales, generation_id = asked.sales, asked.generation_id
    use_store(app, FullDisk)

    # The job's attempts (a worker's retries): each crash is counted and propagates.
    for attempt in range(1, requested.MAX_RENDER_ATTEMPTS):
        with pytest.raises(OSError):
            tasks.generate_requested.run(generation_id)
        row = generation_row(app, generation_id)
        assert (row.status, row.render_attempts) == (GenerationStatus.PENDING, attempt)
    # Then the sweep's: the job lost, it enqueues it again (inline: one attempt).
    asked_too_long_ago(app, generation_id)
    tasks.sweep.run()
    row = generation_row(app, generation_id)
    assert (row.status, row.render_attempts) == (
        GenerationStatus.FAILED,
        requested.MAX_RENDER_ATTEMPTS,
    )
    assert row.problem is not None and "le rendu du PDF a échoué" in row.problem
    assert count(app, ContractVersion) == 0

    # Failed: the sweep leaves it alone.
    tasks.sweep.run()
    assert generation_row(app, generation_id).render_attempts == requested.MAX_RENDER_ATTEMPTS

    follow = f"/contrats/generations/{generation_id}"
    page = sales.get(follow).get_data(as_text=True)
    assert "Génération impossible : le rendu du PDF a échoué" in page
    assert "prévenez un administrateur" in page
    assert "Relancer la génération" in page and 'id="generation-retry" method' in page
    state = sales.get(f"{follow}/suivi.json").get_json()
    assert (state["stage"], state["poll_after"], state["contract_url"]) == ("failed", None, None)
    assert state["message"].startswith("Génération impossible : ")

    # Retried once the disk is freed: a new generation, rendered (inline), the contract's page.
    use_store(app, FilesystemBlobStore)
    retried = sales.post(f"{follow}/relancer", data={"csrf_token": csrf_from(page)})
    assert retried.status_code == 302
    assert count(app, ContractGeneration) == 2
    assert generation_row(app, generation_id).status is GenerationStatus.FAILED
    with session_of(app) as session:
        version = session.query(ContractVersion).one()
        assert version.contract.quote_id == asked.quote_id
        assert retried.headers["Location"] == f"/contrats/{version.contract_id}"
    done = sales.get(retried.headers["Location"]).get_data(as_text=True)
    assert "(version 1) généré." in done
    # The retry of a generation no longer failed is the one it was: no third.
    again = sales.post(f"{follow}/relancer", data={"csrf_token": csrf_from(page)})
    assert again.status_code == 302
    assert count(app, ContractGeneration) == 2 and count(app, ContractVersion) == 1


def test_a_generation_that_is_not_failed_shows_no_retry(app: Flask) -> None:
    asked = asked_by_sales(app)
    sales, generation_id = asked.sales, asked.generation_id
    page = sales.get(f"/contrats/generations/{generation_id}").get_data(as_text=True)
    assert 'id="generation-retry" method="post"' in page and " hidden>" in page
    # Without the CSRF token: refused, nothing asked.
    refused = sales.post(f"/contrats/generations/{generation_id}/relancer")
    assert refused.status_code == 400
    # Legal follows contracts but does not generate them: no retry either.
    legal = login_as(app, Role.LEGAL)
    html = legal.get(f"/contrats/generations/{generation_id}").get_data(as_text=True)
    denied = legal.post(
        f"/contrats/generations/{generation_id}/relancer", data={"csrf_token": csrf_from(html)}
    )
    assert denied.status_code == 403
    assert count(app, ContractGeneration) == 1


def test_the_api_status_says_a_generation_failed_and_how_to_retry(app: Flask) -> None:
    quote_id = quote_ready_for_contract(app)
    client = app.test_client()
    writer = crm_writer(app)
    use_store(app, FullDisk)

    # Inline, the job's one attempt crashes within the request: still 202, still pending.
    first = client.post(f"/api/v1/quotes/{quote_id}/contract", headers=writer)
    assert first.status_code == 202, first.get_json()
    asked = first.get_json()
    assert (asked["status"], asked["error"], asked["version"]) == ("pending", None, None)
    assert asked["message"] == "Génération du contrat en cours…"
    generation_id = asked["id"]
    # Asked again while pending: the same generation.
    again = client.post(f"/api/v1/quotes/{quote_id}/contract", headers=writer)
    assert again.status_code == 202 and again.get_json()["id"] == generation_id

    # Each POST enqueued the job (inline: ran it once): two crashes so far.
    assert generation_row(app, generation_id).render_attempts == 2
    for _ in range(requested.MAX_RENDER_ATTEMPTS - 3):
        with pytest.raises(OSError):
            tasks.generate_requested.run(generation_id)
    asked_too_long_ago(app, generation_id)
    tasks.sweep.run()
    status = client.get(asked["links"]["self"], headers=writer)
    assert status.status_code == 200
    failed = status.get_json()
    assert failed["status"] == "failed" and failed["finished_at"] is not None
    assert failed["error"].startswith("Génération impossible : le rendu du PDF a échoué")
    assert "Relancez la génération" in failed["error"]
    assert failed["links"]["retry"] == f"/api/v1/quotes/{quote_id}/contract"
    assert failed["contract_id"] is None and failed["version"] is None

    use_store(app, FilesystemBlobStore)
    retried = client.post(failed["links"]["retry"], headers=writer)
    assert retried.status_code == 202
    done = retried.get_json()
    assert done["id"] != generation_id and done["status"] == "done"
    assert done["version"]["version"] == 1 and done["links"]["retry"] is None
    earlier = client.get(f"/api/v1/contract-generations/{generation_id}", headers=writer)
    assert earlier.get_json()["status"] == "failed"  # the failed one stays as it ended
    missing = client.get("/api/v1/contract-generations/999999", headers=writer)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
