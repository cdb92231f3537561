"""Real-browser fixtures: the app served over HTTP on loopback, driven by Debian's Chromium.

Never `playwright install`: there is no browser download here, the system Chromium is used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, got_request_exception, request, request_finished
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.loopback import serving_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # This machine is offline: without these, Chromium keeps trying (and logging) connections.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 60_000  # generous: CI machines are shared and a contract render can take seconds


@dataclass
class LiveServer:
    url: str
    app: Flask
    server_errors: list[str] = field(default_factory=list)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """The `app` fixture served on a free loopback port (`tests.loopback.serving_app`).

    Any 5xx answer fails the test at teardown: the app turns unexpected exceptions into a polite
    error page, which a browser test would not necessarily notice.
    """
    errors: list[str] = []

    def _on_response(_sender: Flask, response: Response, **_extra: object) -> None:
        if response.status_code >= 500:
            errors.append(f"{request.method} {request.path} -> {response.status}")

    def _on_exception(_sender: Flask, exception: BaseException, **_extra: object) -> None:
        errors.append(f"{request.method} {request.path} raised {exception!r}")

    request_finished.connect(_on_response, app, weak=False)
    got_request_exception.connect(_on_exception, app, weak=False)
    try:
        with serving_app(app) as url:
            yield LiveServer(url=url, app=app, server_errors=errors)
    finally:
        request_finished.disconnect(_on_response, app)
        got_request_exception.disconnect(_on_exception, app)
    assert not errors, f"server errors during the test: {errors}"


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in this
# thread while it is active, and pyHanko's sync API (used by the app in-process) refuses to
# run inside a running loop; other test modules in the same worker must not inherit it.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} introuvable : .ci/setup test installe le paquet chromium")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield instance
        instance.close()


@pytest.fixture
def new_context(
    browser: Browser, live_server: LiveServer
) -> Iterator[Callable[..., BrowserContext]]:
    """Fresh browser contexts (separate cookie jars: separate people), closed after the test
    and before the server stops, so no keep-alive connection outlives the test. Keyword
    arguments go to `Browser.new_context` (e.g. a viewport)."""
    contexts: list[BrowserContext] = []

    def _new(**options: Any) -> BrowserContext:
        context = browser.new_context(
            **{
                "base_url": live_server.url,
                "locale": "fr-FR",
                "timezone_id": "Europe/Paris",
                "accept_downloads": True,
                **options,
            }
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield _new
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    return new_context().new_page()


@pytest.fixture
def artefacts(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Where a browser test keeps its screenshots: `PARAPHE_TEST_ARTEFACTS/<test name>` when
    set (CI uploads that folder with the results), else the test's temporary folder."""
    root = os.environ.get("PARAPHE_TEST_ARTEFACTS")
    if not root:
        return tmp_path
    folder = Path(root) / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
