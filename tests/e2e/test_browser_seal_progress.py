"""The last signer, on a phone (360 px wide), sees « Signature enregistrée » at once; the
signature, then the seal run in the background, in a real `paraphe worker` on a real broker (a
SQLite file), and the page shows « en cours », then the download button when it is done,
without a reload. The contract page, open on a laptop, follows the same signature and seal."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from app.auth.models import Role
from app.config import Settings
from app.job_runs.models import JobRun, RunStatus
from app.signatures.models import RequestStatus, SignatureRequest, Signer, SignerStatus
from tests.e2e.screens import LAPTOP, outside_the_loop
from tests.e2e.signin import sign_in
from tests.factories import (
    VALID_CLIENT,
    count,
    make_contracted_client,
    make_fast_user,
    publish_short_cgv,
    send_contract,
    session_of,
)
from tests.integration.helpers import deliver_queued_mails, last_code
from tests.integration.worker_process import queued_settings, running_worker, worker_log

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

PHONE_WIDTH = 360
# Tall enough for the whole signing page at 360 px, so nothing is clicked after a scroll next
# to the PDF viewer (see SIGNER_VIEWPORT in test_browser_signing.py).
PHONE_HEIGHT = 4000
SEAL_TIMEOUT_MS = 120_000  # the worker's start (imports, PKI) and the seal, on shared cores


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """A real broker: the signature enqueues the seal, a worker started by the test runs it."""
    return queued_settings("sqlite", settings, tmp_path)


def _contract_sent(app: Flask) -> tuple[int, str]:
    """A contract sent to its client's only signer: (contract id, the signing link's path)."""
    publish_short_cgv(app)
    contracted = make_contracted_client(app)
    return contracted.contract_id, send_contract(app, contracted.contract_id)


def _contract_page(
    new_context: Callable[..., BrowserContext], app: Flask, contract_id: int
) -> Page:
    """The contract page, on a laptop, for a sales user logged in through the form."""
    page: Page = new_context(viewport=LAPTOP.viewport).new_page()
    sign_in(page, make_fast_user(app, Role.SALES))
    page.goto(f"/contrats/{contract_id}")
    return page


def _signers(app: Flask) -> list[Signer]:
    with session_of(app) as session:
        return list(session.scalars(select(Signer)))


def _request(app: Flask) -> SignatureRequest:
    with session_of(app) as session:
        return session.scalars(select(SignatureRequest)).one()


def test_the_last_signer_on_a_phone_sees_the_seal_arrive_without_reload(
    app: Flask,
    settings: Settings,
    live_server: LiveServer,
    new_context: Callable[..., BrowserContext],
) -> None:
    contract_id, path = outside_the_loop(_contract_sent, app)
    signer_email = VALID_CLIENT["signer_email"]

    phone: Page = new_context(viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT}).new_page()
    phone.goto(path)
    phone.get_by_role("button", name="Recevoir un code par e-mail").click()
    expect(phone.get_by_role("status")).to_contain_text(signer_email)
    outbox = app.extensions["paraphe"].settings.outbox_dir
    # No worker yet (the seal must wait for one): the code mail is delivered here.
    assert outside_the_loop(deliver_queued_mails, app) >= 1
    phone.get_by_label("Code reçu par e-mail").fill(last_code(outbox, signer_email))
    phone.get_by_role("button", name="Valider le code").click()
    # The click starts a POST → redirect → GET: measure the page it lands on, not the one
    # being replaced (mid-navigation the document has no root element yet).
    consent = phone.get_by_label("J'ai lu et j'accepte les conditions générales de vente")
    consent.wait_for()
    height = phone.evaluate("() => document.documentElement.scrollHeight")
    assert height <= PHONE_HEIGHT, f"the signing page is {height}px tall: raise PHONE_HEIGHT"
    consent.check()
    phone.get_by_label("Bon pour accord", exact=False).check()
    phone.get_by_role("button", name="Signer le contrat").click()

    # At once: the consent is recorded, the signature waits in the broker for a worker.
    expect(phone.get_by_role("heading", level=1)).to_have_text("Signature enregistrée")
    expect(phone.locator("#sealing")).to_contain_text("en cours d'apposition")
    download = phone.get_by_role("link", name="Télécharger le contrat signé (PDF)")
    expect(download).to_be_hidden()
    expect(phone.locator("#reload")).to_be_visible()  # without JavaScript: reload by hand
    request = _request(app)
    assert request.status is RequestStatus.SENT and request.sealed_at is None
    (signer,) = _signers(app)
    assert signer.status is SignerStatus.SIGNING and signer.signed_at is None
    # the page reads on a phone: nothing wider than the screen
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE_WIDTH
    phone.evaluate("() => { window.notReloaded = true; }")
    sales = _contract_page(new_context, app, contract_id)
    badge = sales.locator(f"#request-{request.id}")
    expect(badge).to_have_text("envoyée, en attente des signatures")
    signer_status = sales.locator(f"#signer-{signer.id}-status")
    expect(signer_status).to_have_text("signature en cours")
    evidence = sales.get_by_role("link", name="Dossier de preuve (PDF)")
    expect(evidence).to_be_hidden()
    sales.evaluate("() => { window.notReloaded = true; }")

    with running_worker(settings):
        try:
            expect(download).to_be_visible(timeout=SEAL_TIMEOUT_MS)
        except AssertionError:
            pytest.fail(f"no download button; worker log:\n{worker_log(settings)[-4000:]}")

    # the contract page followed too, without a reload
    expect(badge).to_have_text("signée et scellée")
    expect(signer_status).to_have_text("signé")
    expect(sales.locator("#status-v1")).to_have_text("signée")
    expect(evidence).to_be_visible()
    expect(sales.get_by_role("link", name="Télécharger le PDF signé")).to_be_visible()
    assert sales.evaluate("() => window.notReloaded") is True
    # the same page, not a reloaded one
    assert phone.evaluate("() => window.notReloaded") is True
    expect(phone.get_by_role("heading", level=1)).to_have_text("Signature enregistrée")
    expect(phone.locator("#sealing")).to_contain_text("le contrat signé est prêt")
    expect(phone.locator("#reload-hint")).to_be_hidden()
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE_WIDTH
    with phone.expect_download() as downloaded:
        download.click()
    pdf = Path(downloaded.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    expect(phone.locator("#signed-hash code")).to_have_text(hashlib.sha256(pdf).hexdigest())
    assert _request(app).sealed_at is not None
    # the worker recorded its run of the seal (Huey's signals, in the worker process)
    sealed_runs = count(
        app, JobRun, JobRun.name == "signatures.seal", JobRun.status == RunStatus.COMPLETE
    )
    assert sealed_runs == 1
    signed_runs = count(
        app, JobRun, JobRun.name == "signatures.sign", JobRun.status == RunStatus.COMPLETE
    )
    assert signed_runs == 1
