"""Every route that serves an archived document's bytes reads them through the archive's
integrity check: a flipped byte or a missing blob is answered with a 503 (problem+json on the
API, the French error page on the web) and journaled exactly once per failed read, never a 500
built from the blob store directly."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from app.audit.models import AuditEvent
from app.auth.models import Role, Scope
from app.db import transaction
from app.documents.models import Document
from app.signatures.models import SignatureRequest
from storage import FilesystemBlobStore
from tests.factories import Signed, login_as, make_token, runtime, sign_completely
from tests.factories.audit import journaled_details


def _blob_path(app: Flask, document_id: int) -> Path:
    store = runtime(app).store
    assert isinstance(store, FilesystemBlobStore)
    with transaction(runtime(app).session_factory) as session:
        document = session.get(Document, document_id)
        assert document is not None
        sha256 = document.sha256
    return store.root / sha256[:2] / sha256[2:4] / sha256


def _flip_one_byte(path: Path) -> None:
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _failures(app: Flask, document_id: int) -> list[str]:
    """The `details` of every journaled integrity failure of the document, in order."""
    return journaled_details(app, "document.integrity_failed", document_id)


def _reads(app: Flask, document_id: int) -> int:
    with transaction(runtime(app).session_factory) as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(
                    AuditEvent.action == "document.read", AuditEvent.subject_id == str(document_id)
                )
            )
            or 0
        )


def _restitution_download(app: Flask, signed: Signed) -> tuple[str, int]:
    """An archivist orders the restitution: the archive is produced and a link mailed."""
    api = app.test_client()
    auth = {"Authorization": f"Bearer {make_token(app, Scope.RESTITUTION)}"}
    built = api.post(f"/api/v1/clients/{signed.client_id}/restitution", headers=auth)
    assert built.status_code == 202, built.get_data(as_text=True)  # built by the (inline) job
    # Ordered again, unchanged: answered at once, with a download link of its own.
    ordered = api.post(f"/api/v1/clients/{signed.client_id}/restitution", headers=auth)
    assert ordered.status_code == 200, ordered.get_data(as_text=True)
    body = ordered.get_json()
    return body["download_url"].split("://", 1)[1].split("/", 1)[1], body["document"]["id"]


@dataclass(frozen=True)
class Route:
    """How to request one route, and which archived document it serves."""

    api: bool
    document: str
    url: Callable[[Signed], str]
    who: str  # "api", "sales" or "anyone" (the link is the credential)
    journals_reads: bool = True  # the public CGV address journals only failed checks


ROUTES = {
    "api-content": Route(
        True, "signed", lambda s: f"/api/v1/documents/{s.documents['signed']}/content", "api"
    ),
    "api-verification": Route(
        True, "signed", lambda s: f"/api/v1/documents/{s.documents['signed']}/verification", "api"
    ),
    "contract-pdf": Route(
        False, "contract", lambda s: f"/contrats/{s.contract_id}/v1.pdf", "sales"
    ),
    "contract-signed-pdf": Route(
        False, "signed", lambda s: f"/contrats/{s.contract_id}/v1/signe.pdf", "sales"
    ),
    "signer-contract": Route(
        False, "contract", lambda s: f"/signature/{s.token}/contrat.pdf", "anyone"
    ),
    "signer-cgv": Route(False, "cgv", lambda s: f"/signature/{s.token}/cgv.pdf", "anyone"),
    "signer-signed-pdf": Route(
        False, "signed", lambda s: f"/signature/{s.token}/document-signe.pdf", "anyone"
    ),
    "completion-link": Route(
        False, "signed", lambda s: f"/signature/document/{s.download_token}", "anyone"
    ),
    "evidence-pdf": Route(
        False, "evidence_pdf", lambda s: f"/demandes-signature/{s.request_id}/preuve.pdf", "sales"
    ),
    "evidence-json": Route(
        False, "evidence_json", lambda s: f"/demandes-signature/{s.request_id}/preuve.json", "sales"
    ),
    "public-cgv": Route(False, "cgv", lambda s: "/cgv/3.0.pdf", "anyone", journals_reads=False),
}


def _browser(app: Flask, who: str) -> tuple[FlaskClient, dict[str, str]]:
    if who == "api":
        return app.test_client(), {"Authorization": f"Bearer {make_token(app, Scope.READ)}"}
    if who == "sales":
        return login_as(app, Role.SALES), {}
    return app.test_client(), {}


def _assert_refused(response: TestResponse, *, api: bool, problem: str) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    text = response.get_data(as_text=True)
    if api:
        assert response.mimetype == "application/problem+json"
        body = response.get_json()
        assert body["title"] == "Contrôle d'intégrité échoué" and problem in body["detail"]
    else:
        assert response.mimetype == "text/html"
        assert "Contrôle d&#39;intégrité échoué" in text or "Contrôle d'intégrité échoué" in text
        assert problem in text.replace("&#39;", "'")


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_damaged_or_missing_document_is_refused_and_journaled(app: Flask, name: str) -> None:
    route = ROUTES[name]
    signed = sign_completely(app)
    document_id = signed.documents[route.document]
    browser, headers = _browser(app, route.who)
    url = route.url(signed)
    reads = _reads(app, document_id)
    assert browser.get(url, headers=headers).status_code == 200
    assert _reads(app, document_id) == reads + (1 if route.journals_reads else 0)

    path = _blob_path(app, document_id)
    _flip_one_byte(path)
    damaged = browser.get(url, headers=headers)
    _assert_refused(damaged, api=route.api, problem="ne correspond plus à son empreinte")
    failures = _failures(app, document_id)
    assert len(failures) == 1 and '"problem":"mismatch"' in failures[0]

    path.unlink()
    missing = browser.get(url, headers=headers)
    _assert_refused(missing, api=route.api, problem="est introuvable dans le stockage")
    failures = _failures(app, document_id)
    assert len(failures) == 2 and '"problem":"missing"' in failures[1]


def test_restitution_download_of_a_damaged_archive_is_refused_and_journaled(app: Flask) -> None:
    signed = sign_completely(app)
    url, archive_id = _restitution_download(app, signed)
    browser = app.test_client()
    assert browser.get(url).status_code == 200

    path = _blob_path(app, archive_id)
    _flip_one_byte(path)
    damaged = browser.get(url)
    _assert_refused(damaged, api=False, problem="ne correspond plus à son empreinte")
    assert len(_failures(app, archive_id)) == 1

    path.unlink()
    _assert_refused(browser.get(url), api=False, problem="est introuvable dans le stockage")
    assert len(_failures(app, archive_id)) == 2
    with transaction(runtime(app).session_factory) as session:
        downloads = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "restitution.downloaded")
        )
    assert downloads == 1  # only the download that was served is journaled as done


def test_invoice_pdf_of_a_damaged_document_is_refused_and_journaled(app: Flask) -> None:
    """The invoice page already read through the archive, but its journaled failure was
    rolled back with the request's session before the 503: the event must survive."""
    from app.invoices.models import Invoice
    from tests.factories import make_client, make_invoice

    invoice_id = make_invoice(app, make_client(app))
    browser = login_as(app, Role.SALES)
    url = f"/factures/{invoice_id}/pdf"
    assert browser.get(url).status_code == 200  # produced and archived when issued
    with transaction(runtime(app).session_factory) as session:
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None and invoice.document is not None
        document_id = invoice.document.id

    path = _blob_path(app, document_id)
    _flip_one_byte(path)
    _assert_refused(browser.get(url), api=False, problem="ne correspond plus à son empreinte")
    assert len(_failures(app, document_id)) == 1
    path.unlink()
    _assert_refused(browser.get(url), api=False, problem="est introuvable dans le stockage")
    assert len(_failures(app, document_id)) == 2


def test_sending_a_damaged_contract_is_refused_and_journaled(app: Flask) -> None:
    """The send reads the version's PDF to certify it: damaged, nothing is sent."""
    from tests.factories import make_contracted_client, publish_short_cgv
    from tests.integration.fixtures_security import logged_in_csrf

    publish_short_cgv(app)
    contract_id = make_contracted_client(app).contract_id
    with transaction(runtime(app).session_factory) as session:
        document_id = session.scalars(
            select(Document.id).where(Document.reference.like("CTR-%"))
        ).one()
    _flip_one_byte(_blob_path(app, document_id))
    sales = login_as(app, Role.SALES)
    refused = sales.post(
        f"/contrats/{contract_id}/v1/envoyer", data={"csrf_token": logged_in_csrf(sales)}
    )
    _assert_refused(refused, api=False, problem="ne correspond plus à son empreinte")
    assert len(_failures(app, document_id)) == 1
    with transaction(runtime(app).session_factory) as session:
        assert session.scalar(select(func.count()).select_from(SignatureRequest)) == 0
