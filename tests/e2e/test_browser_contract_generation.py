"""The follow page of a contract being generated in the background: "Génération du contrat en
cours…", then the message and the link to the contract, without a reload (app/static/progress.js
polling the generation's suivi.json)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from app.auth.models import Role
from app.contracts import requested
from app.contracts.models import Contract, ContractGeneration, GenerationStatus
from app.db import transaction, utcnow
from storage import BlobRef, FilesystemBlobStore
from tests.e2e.signin import sign_in
from tests.factories import runtime, session_of
from tests.factories.drafts import first_version_asked
from tests.factories.people import make_user
from tests.factories.sales import make_client, make_quote, publish_short_cgv
from tests.integration.helpers import user_id_of

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer


def _asked(app: Flask) -> tuple[str, int]:
    """A sales user, and the first version of a quote's contract asked by them, its job not
    run yet (as while it waits for a worker): the user's e-mail and the generation's id."""
    publish_short_cgv(app)
    quote_id = make_quote(app, make_client(app))
    sales = make_user(app, Role.SALES)
    return sales, first_version_asked(app, quote_id, user_id_of(app, sales))


def test_the_contract_link_appears_once_the_job_rendered_it(
    app: Flask, live_server: LiveServer, page: Page
) -> None:
    sales, generation_id = _asked(app)
    rt = runtime(app)
    sign_in(page, sales)
    page.goto(f"/contrats/generations/{generation_id}")
    message = page.locator("#generation-message")
    expect(message).to_have_text("Génération du contrat en cours…")
    link = page.get_by_role("link", name="Ouvrir le contrat")
    expect(link).to_be_hidden()

    # The worker's job, done while the page is open (in another thread: Playwright keeps an
    # event loop in this one).
    with ThreadPoolExecutor(max_workers=1) as pool:
        status = pool.submit(
            lambda: requested.fulfil(rt.collaborators(utcnow()), generation_id)
        ).result()
    assert status is GenerationStatus.DONE

    with session_of(app) as session:
        contract = session.scalars(select(Contract)).one()
    expect(link).to_have_attribute("href", f"/contrats/{contract.id}", timeout=20_000)
    expect(message).to_have_text(f"Contrat {contract.number} (version 1) généré.")
    expect(page.locator("#generation-reload")).to_be_hidden()
    assert page.url.endswith(f"/contrats/generations/{generation_id}")  # no reload


class _FullDisk(FilesystemBlobStore):
    """The archive refuses every new blob: the render crashes when it stores its PDF."""

    def put(self, data: bytes) -> BlobRef:
        raise OSError(28, "No space left on device")


def test_a_generation_given_up_meanwhile_offers_its_retry_without_a_reload(
    app: Flask, live_server: LiveServer, page: Page
) -> None:
    sales, generation_id = _asked(app)
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        # Its earlier renders crashed already: the next crash is the last one allowed.
        session.execute(
            update(ContractGeneration)
            .where(ContractGeneration.id == generation_id)
            .values(render_attempts=requested.MAX_RENDER_ATTEMPTS - 1)
        )
    sign_in(page, sales)
    page.goto(f"/contrats/generations/{generation_id}")
    retry = page.get_by_role("button", name="Relancer la génération")
    expect(retry).to_be_hidden()

    # The worker's last attempt, with a full disk, while the page is open.
    collab = replace(rt.collaborators(utcnow()), store=_FullDisk(rt.settings.storage_dir))
    with ThreadPoolExecutor(max_workers=1) as pool:
        status = pool.submit(lambda: requested.fulfil(collab, generation_id)).result()
    assert status is GenerationStatus.FAILED

    message = page.locator("#generation-message")
    expect(message).to_contain_text(
        "Génération impossible : le rendu du PDF a échoué", timeout=20_000
    )
    expect(retry).to_be_visible()
    retry.click()  # the disk freed: a new generation, rendered (inline), the contract's page
    expect(page).to_have_url(re.compile(r"/contrats/\d+$"), timeout=20_000)
    with session_of(app) as session:
        contract = session.scalars(select(Contract)).one()
        assert session.get_one(ContractGeneration, generation_id).status is GenerationStatus.FAILED
    assert page.url.endswith(f"/contrats/{contract.id}")
    expect(page.get_by_text(f"Contrat {contract.number} (version 1) généré.")).to_be_visible()
