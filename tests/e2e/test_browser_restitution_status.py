"""The restitution request's page follows its archive built in the background: « en
préparation… », then the sentence of the finished request, without a reload
(app/static/restitution-status.js polling the JSON status through follow-json.js)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from flask import Flask
from playwright.sync_api import Page, expect

from app.auth.models import Scope
from tests.factories import deposit_document, make_client, make_token
from tests.integration.helpers import body_text, outbox_messages

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer


def test_the_request_page_shows_the_archive_ready_without_a_reload(
    app: Flask, live_server: LiveServer, page: Page
) -> None:
    client_id = make_client(app)
    deposit_document(app, client_id)
    token = make_token(app, Scope.RESTITUTION)
    invited = app.test_client().post(
        f"/api/v1/clients/{client_id}/restitution-invitation",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert invited.status_code == 201
    outbox = app.extensions["paraphe"].settings.outbox_dir
    [invitation] = outbox_messages(outbox)
    match = re.search(r"http://[^\s]+(/restitution/demande/[^\s]+)", body_text(invitation))
    assert match, body_text(invitation)

    page.goto(match.group(1))
    page.get_by_role("button", name="Demander mon archive").click()
    # The page the request answers with (202) starts pending; its job ran inline, so the
    # first poll already finds the archive built and says so in place of the pending text.
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre archive est en préparation")
    status = page.locator("#restitution-status")
    expect(status).to_contain_text("Votre archive est prête", timeout=20_000)
    expect(status).not_to_contain_text("en préparation")
    assert re.search(r"/restitution/demande/[^/]+$", page.url)  # no reload, no redirect
