"""The notification progress of a CGV version in a real browser: the page opened while the
notification jobs wait in the broker says so; a `paraphe worker` then mails every client and
the sentence becomes "300 clients notifiés sur 300" without a reload; the polling stops
once it is done."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import Page, Request, expect

from app.auth.models import Role
from app.config import Settings
from app.db import utcnow
from app.terms import tasks, workflow
from app.terms.models import VersionKind
from app.terms.versions import CgvDraft
from tests.e2e.signin import sign_in
from tests.factories import SHORT_CGV, make_user, runtime
from tests.factories.bulk_clients import seed_active_clients
from tests.integration.worker_process import running_worker

if TYPE_CHECKING:  # annotations only: conftest modules are pytest's to import
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

CLIENTS = 300


@pytest.fixture
def app(settings: Settings, make_app: Callable[[Settings], Flask], tmp_path: Path) -> Flask:
    """The application with a real broker (a SQLite file): jobs wait for `paraphe worker`."""
    return make_app(
        replace(
            settings,
            queue_url=f"sqlite:///{tmp_path / 'queue.db'}",
            queue_name=f"test-{secrets.token_hex(6)}",
        )
    )


def test_the_version_page_follows_the_notification_without_reload(
    app: Flask, live_server: LiveServer, page: Page
) -> None:
    seed_active_clients(runtime(app).session_factory, CLIENTS, utcnow())
    legal = make_user(app, Role.LEGAL)
    c = runtime(app).collaborators(utcnow())
    draft = CgvDraft(
        "1.0", "Conditions générales de vente", date(2024, 1, 1), SHORT_CGV, "", VersionKind.MINOR
    )
    version = workflow.publish(c, draft, actor="test")
    tasks.after_publication(version.id)  # enqueued; no worker yet

    sign_in(page, legal)
    polls: list[float] = []

    def _count(request: Request) -> None:
        if request.url.endswith(f"/cgv/versions/{version.id}/avancement"):
            polls.append(time.monotonic())

    page.on("request", _count)
    page.goto(f"/cgv/versions/{version.id}")
    progress = page.locator("#notification-progress")
    expect(progress).to_contain_text("Notification des clients en préparation (envoi en cours)")

    with running_worker(live_server.app.extensions["paraphe"].settings, workers=2):
        expect(progress).to_have_text(
            f"{CLIENTS}\u00a0clients notifiés sur {CLIENTS}", timeout=120_000
        )
    assert polls, "the page never polled"
    done_at = time.monotonic()
    page.wait_for_timeout(5_000)
    assert not [t for t in polls if t > done_at + 0.5], "the page kept polling once done"
