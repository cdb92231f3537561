"""Contract fixtures for rendering tests: no database, no Flask app, no network."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from app.rendering.contract import render_contract_pdf
from app.rendering.contract_document import ContractDocument
from app.rendering.pdf import FetchAttempt, clear_font_configurations
from tests.unit.rendering.factory import CGV_FIXTURE, RenderedContract, build_document


@pytest.fixture(scope="session")
def cgv_markdown() -> str:
    return CGV_FIXTURE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def make_document(cgv_markdown: str) -> Callable[..., ContractDocument]:
    return lambda **changes: build_document(cgv_markdown, **changes)


@pytest.fixture(scope="session")
def rendered_contract(make_document: Callable[..., ContractDocument]) -> RenderedContract:
    """The full contract rendered once for the whole session (about a second)."""
    document = make_document()
    log: list[FetchAttempt] = []
    clear_font_configurations()  # fonts are loaded once per thread: see every fetch
    start = time.perf_counter()
    pdf = render_contract_pdf(document, fetch_log=log)
    seconds = time.perf_counter() - start
    print(f"\nfull contract, first render: {seconds:.2f} s ({len(pdf)} bytes)")
    return RenderedContract(document=document, pdf=pdf, fetches=tuple(log), seconds=seconds)
