"""Contract generation as a background job (`contracts.generate_requested`): the sales request
checks and answers at once, the job renders (WeasyPrint takes seconds), the follow page and
its `suivi.json` show the result; twenty clicks make one version, also with a real worker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from markupsafe import escape
from sqlalchemy import select, update

from app.auth.models import Role
from app.config import Settings
from app.contracts import generation, requested, tasks
from app.contracts.models import Contract, ContractGeneration, ContractVersion, GenerationStatus
from app.db import transaction, utcnow
from app.quotes.models import Quote
from app.quotes.services import get_quote
from tests.factories import count, login_as, make_client, make_quote, publish_short_cgv, runtime
from tests.factories.db import session_of
from tests.factories.drafts import asked_too_long_ago, first_version_asked
from tests.integration.generation_setup import SALES, asked_by_sales, generation_row
from tests.integration.helpers import generate_clicked_together, user_id_of
from tests.integration.worker_process import (
    running_worker,
    wait_until,
    worker_log,
)
from tests.together import PARALLEL


@pytest.mark.committed_db  # the worker process reads what the test committed
@pytest.mark.real_clock
def test_twenty_clicks_on_generate_make_one_version_through_a_worker(
    queued: Settings, make_app: Callable[[Settings], Flask]
) -> None:
    app = make_app(queued)
    sales, _quote_id, responses = generate_clicked_together(app)

    # Answered at once, nothing rendered yet: every click follows the one pending generation.
    assert sorted(r.status_code for r in responses) == [302] * PARALLEL
    assert count(app, ContractGeneration) == 1
    with session_of(app) as session:
        generation_id = session.scalars(select(ContractGeneration.id)).one()
    follow = f"/contrats/generations/{generation_id}"
    assert {r.headers["Location"] for r in responses} == {follow}
    assert count(app, ContractVersion) == 0
    page = sales.get(follow)
    assert page.status_code == 200
    assert "Génération du contrat en cours" in page.get_data(as_text=True)
    assert sales.get(f"{follow}/suivi.json").get_json() == {
        "poll_after": requested.POLL_AFTER,
        "stage": "pending",
        "message": "Génération du contrat en cours…",
        "contract_url": None,
    }

    tasks.generate_requested.enqueue(generation_id)  # once more: a retry, the sweep
    with running_worker(queued, workers=2):
        wait_until(
            lambda: generation_row(app, generation_id).status is GenerationStatus.DONE, queued
        )
        wait_until(
            lambda: worker_log(queued).count("contracts.generate_requested: ") >= 2 * 21, queued
        )

    assert count(app, Contract) == 1
    assert count(app, ContractVersion) == 1
    with session_of(app) as session:
        contract = session.scalars(select(Contract)).one()
    state = sales.get(f"{follow}/suivi.json").get_json()
    assert state == {
        "poll_after": None,
        "stage": "done",
        "message": f"Contrat {contract.number} (version 1) généré.",
        "contract_url": f"/contrats/{contract.id}",
    }
    done = sales.get(follow, follow_redirects=True)
    assert done.request.path == f"/contrats/{contract.id}"
    assert f"Contrat {contract.number} (version 1) généré." in done.get_data(as_text=True)


def test_a_generation_refused_when_rendered_says_why_on_its_page(app: Flask) -> None:
    """The quote expired between the click and the job: the job renders nothing, and the
    follow page (then its JSON) gives the reason instead of waiting for ever."""
    asked = asked_by_sales(app)
    sales, quote_id, generation_id = asked.sales, asked.quote_id, asked.generation_id
    yesterday = utcnow().date() - timedelta(days=1)
    with transaction(runtime(app).session_factory) as session:
        session.execute(update(Quote).where(Quote.id == quote_id).values(valid_until=yesterday))

    tasks.generate_requested.run(generation_id)

    assert generation_row(app, generation_id).status is GenerationStatus.FAILED
    assert count(app, ContractVersion) == 0
    page = sales.get(f"/contrats/generations/{generation_id}")
    assert page.status_code == 200
    assert "Génération refusée : Le devis" in page.get_data(as_text=True)
    assert "a expiré le" in page.get_data(as_text=True)
    state = sales.get(f"/contrats/generations/{generation_id}/suivi.json").get_json()
    assert state["stage"] == "failed" and state["poll_after"] is None


def test_a_contract_made_meanwhile_by_another_path_ends_the_generation_without_a_second(
    app: Flask,
) -> None:
    """The API (or the bulk job) contracted the quote while the job waited: the job makes
    nothing and its page leads to the contract that exists."""
    asked = asked_by_sales(app)
    sales, quote_id, author_id = asked.sales, asked.quote_id, asked.author_id
    generation_id = asked.generation_id
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        made = generation.generate_contract(
            session,
            rt.store,
            quote=get_quote(session, quote_id),
            vendor=rt.settings.vendor,
            now=utcnow(),
            actor=f"user:{author_id}",
            author_id=author_id,
        )
        contract_id, number = made.contract_id, made.contract.number

    tasks.generate_requested.run(generation_id)

    row = generation_row(app, generation_id)
    assert (row.status, row.version_id, row.contract_id) == (
        GenerationStatus.DONE,
        None,
        contract_id,
    )
    assert count(app, ContractVersion) == 1
    page = sales.get(f"/contrats/generations/{generation_id}", follow_redirects=True)
    assert page.request.path == f"/contrats/{contract_id}"
    assert f"a déjà donné lieu au contrat {number}" in page.get_data(as_text=True)


def test_the_sweep_enqueues_again_only_generations_whose_job_was_lost(app: Flask) -> None:
    """Pending for longer than `tasks.LOST_AFTER`: the job was lost (broker down at the
    click); the sweep runs it (inline here). A recent one is left to its own job."""
    publish_short_cgv(app)
    login_as(app, Role.SALES)
    author_id = user_id_of(app, SALES)
    client_id = make_client(app)
    lost = first_version_asked(app, make_quote(app, client_id), author_id)
    recent = first_version_asked(app, make_quote(app, client_id), author_id)
    asked_too_long_ago(app, lost)

    tasks.sweep.run()

    assert generation_row(app, lost).status is GenerationStatus.DONE
    assert generation_row(app, recent).status is GenerationStatus.PENDING
    assert count(app, ContractVersion) == 1


def test_a_generation_no_worker_took_says_it_waits(app: Flask) -> None:
    """Its job waits in the queue (no worker running, which also runs the sweep): rather
    than « en cours » for ever, its page says it waits and whom to tell, and keeps polling."""
    publish_short_cgv(app)
    sales = login_as(app, Role.SALES)
    generation_id = first_version_asked(
        app, make_quote(app, make_client(app)), user_id_of(app, SALES)
    )
    follow = f"/contrats/generations/{generation_id}"
    assert "Génération du contrat en cours…" in sales.get(follow).get_data(as_text=True)

    asked_too_long_ago(app, generation_id)

    waiting = (
        "Génération du contrat en attente depuis plus de 5 minutes : le service des travaux en "
        "arrière-plan ne l'a pas encore prise en charge."
    )
    assert escape(waiting) in sales.get(follow).get_data(as_text=True)
    state = sales.get(f"{follow}/suivi.json").get_json()
    assert state["stage"] == "pending" and state["poll_after"] == requested.POLL_AFTER
    assert state["message"].startswith(waiting) and "prévenez un administrateur" in state["message"]
    tasks.sweep.run()  # a worker back: its sweep renders it
    assert generation_row(app, generation_id).status is GenerationStatus.DONE
