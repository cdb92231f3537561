"""A failed generation asked again from its page (« Relancer la génération ») repeats exactly
what was first asked (issue 15 follow-up): through the API, the countersigner and the client's
signer the body named survive a retry by a salesperson, who does not become the countersigner;
a retry of a retry still follows the first asking. Inline queue, then a real worker."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from app.auth.models import Role
from app.config import Settings
from app.contracts.models import ContractVersion, GenerationStatus
from storage import FilesystemBlobStore
from tests.conftest import csrf_from
from tests.factories import count, login_as, runtime
from tests.factories.db import session_of
from tests.integration.generation_setup import (
    asked_through_the_api,
    generation_row,
    generations,
    given_up,
    use_store,
)
from tests.integration.worker_process import (
    running_worker,
    wait_until,
)

COUNTERSIGNER = {"name": "Hélène Vendeur", "email": "helene.vendeur@example.fr"}
SIGNER = {"name": "Jeanne Roux", "email": "jeanne.roux@example.fr"}


def _retry(sales: FlaskClient, generation_id: int) -> Any:
    follow = f"/contrats/generations/{generation_id}"
    page = sales.get(follow).get_data(as_text=True)
    assert "Relancer la génération" in page
    return sales.post(f"{follow}/relancer", data={"csrf_token": csrf_from(page)})


def _pdf_text(app: Flask, version: ContractVersion) -> str:
    data = runtime(app).store.get(version.document.sha256)
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_retry_from_the_web_prints_the_countersigner_and_signer_the_api_named(
    app: Flask,
) -> None:
    assert not runtime(app).settings.vendor.signer_email  # no configured signatory
    first = asked_through_the_api(
        app, {"countersigner": COUNTERSIGNER, "signer": SIGNER, "free_text": "Support dédié."}
    )
    given_up(app, first)
    sales = login_as(app, Role.SALES)

    # Failed again (the disk still full): the retry of the retry still follows the API's asking.
    retried = _retry(sales, first)
    assert retried.status_code == 302
    second = max(r.id for r in generations(app))
    given_up(app, second)
    use_store(app, FilesystemBlobStore)
    done = _retry(sales, second)
    assert done.status_code == 302 and done.headers["Location"].startswith("/contrats/")

    rows = generations(app)
    assert [(r.status, r.retry_of) for r in rows] == [
        (GenerationStatus.FAILED, None),
        (GenerationStatus.FAILED, first),
        (GenerationStatus.DONE, first),
    ]
    for row in rows[1:]:  # what was asked, repeated; the clicker recorded as who asked
        assert (row.countersigner_name, row.countersigner_email) == tuple(COUNTERSIGNER.values())
        assert (row.signer_name, row.signer_email) == tuple(SIGNER.values())
        assert row.free_text == "Support dédié." and row.token_id is None
        assert row.author_id is not None
    with session_of(app) as session:
        version = session.scalars(select(ContractVersion)).one()
        assert (version.countersigner_name, version.countersigner_email) == tuple(
            COUNTERSIGNER.values()
        )
        assert (version.signer_name, version.signer_email) == tuple(SIGNER.values())
        text = _pdf_text(app, version)
    assert COUNTERSIGNER["name"] in text and SIGNER["name"] in text
    assert "Support dédié." in text


def test_a_retry_of_an_api_generation_without_countersigner_adds_none(app: Flask) -> None:
    first = asked_through_the_api(app, {})
    given_up(app, first)
    sales = login_as(app, Role.SALES)
    use_store(app, FilesystemBlobStore)
    assert _retry(sales, first).status_code == 302
    with session_of(app) as session:
        version = session.scalars(select(ContractVersion)).one()
        # the salesperson who clicked is not made the vendor's countersigner
        assert (version.countersigner_name, version.countersigner_email) == (None, None)


@pytest.mark.committed_db  # the worker process reads what the test committed
@pytest.mark.real_clock
def test_a_retry_rendered_by_a_worker_keeps_the_api_countersigner(
    queued: Settings, make_app: Callable[[Settings], Flask]
) -> None:
    app = make_app(queued)
    first = asked_through_the_api(app, {"countersigner": COUNTERSIGNER, "signer": SIGNER})
    given_up(app, first)
    sales = login_as(app, Role.SALES)
    use_store(app, FilesystemBlobStore)
    retried = _retry(sales, first)
    assert retried.status_code == 302  # the follow page: the worker renders
    [again] = [r.id for r in generations(app) if r.retry_of == first]
    assert retried.headers["Location"] == f"/contrats/generations/{again}"
    with running_worker(queued):
        wait_until(lambda: generation_row(app, again).status is GenerationStatus.DONE, queued)
    assert count(app, ContractVersion) == 1
    with session_of(app) as session:
        version = session.scalars(select(ContractVersion)).one()
        assert (version.countersigner_name, version.countersigner_email) == tuple(
            COUNTERSIGNER.values()
        )
        assert (version.signer_name, version.signer_email) == tuple(SIGNER.values())
