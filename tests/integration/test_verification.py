"""Verification: the API report of an archived PDF, and the public /verify page (upload,
size limit, non-PDF refused, whether these exact bytes are archived)."""

from __future__ import annotations

import io

from flask import Flask
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from app.auth.models import Scope
from app.signatures.models import SignatureRequest
from tests.factories import (
    make_token,
    runtime,
    sent_link,
    session_of,
    sign_through_services,
)
from tests.integration.fixtures_security import csrf_of_session
from tests.integration.test_french_pages import problems_of


def sealed(app: Flask) -> tuple[int, bytes]:
    sign_through_services(app, sent_link(app))
    with session_of(app) as session:
        request = session.scalar(select(SignatureRequest))
        assert request is not None and request.signed_document is not None
        document = request.signed_document
        return document.id, runtime(app).store.get(document.sha256)


def test_api_reports_every_signature(app: Flask) -> None:
    document_id, _data = sealed(app)
    auth = {"Authorization": f"Bearer {make_token(app, Scope.READ)}"}
    client = app.test_client()
    response = client.get(f"/api/v1/documents/{document_id}/verification", headers=auth)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    assert body is not None, "the API answers in JSON"
    assert body["all_ok"] is True and body["signed"] is True
    assert body["verdict_ok"] is True
    assert body["verdict"].startswith("Document intact, signé par Zoë Martin le ")
    assert body["verdict"].endswith("cachet de la plateforme valide")
    assert len(body["details"]) == 3
    english = client.get(
        f"/api/v1/documents/{document_id}/verification",
        headers={**auth, "Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"},
    ).json
    assert english is not None
    assert english["verdict"].startswith("Document intact, signed by Zoë Martin on ")
    assert english["verdict"].endswith("(Paris time); platform seal valid")
    by_field = {s["field"]: s for s in body["signatures"]}
    # the platform's certification (first revision), the client, the platform seal
    assert [s["field"] for s in body["signatures"]] == [
        "certification",
        "signature-1",
        "cachet-plateforme",
    ]
    client_sig = by_field["signature-1"]
    assert client_sig["signer"] == "Zoë Martin"
    assert client_sig["intact"] and client_sig["valid"] and client_sig["chain"] == "trusted"
    assert client_sig["modification_level"] in ("none", "form filling")
    assert client_sig["pades_level"] == "B-B" and client_sig["signing_time"]
    assert by_field["cachet-plateforme"]["coverage"] == "entire file"
    # scope and existence
    assert client.get(f"/api/v1/documents/{document_id}/verification").status_code == 401
    missing = client.get("/api/v1/documents/999999/verification", headers=auth)
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"


def test_public_verify_page(app: Flask) -> None:
    _document_id, data = sealed(app)
    browser = app.test_client()
    assert browser.get("/verify").status_code == 200
    csrf = csrf_of_session(browser)

    def upload(content: bytes, name: str = "contrat.pdf") -> TestResponse:
        # encoded in memory: the test client would spool a large body to a file it never closes
        boundary, body = encode_multipart(
            {"csrf_token": csrf, "document": FileStorage(io.BytesIO(content), name)}
        )
        return browser.post(
            "/verify", data=body, content_type=f"multipart/form-data; boundary={boundary}"
        )

    ok = upload(data)
    assert ok.status_code == 200
    html = ok.get_data(as_text=True)
    assert "figure dans les archives de Paraphe (déposé le" in html
    # the verdict first, in French, then one sentence per signature (certification, client,
    # seal), and no English reason or ISO date anywhere
    verdict = html.index('id="verdict"')
    assert html.index('id="signatures"') > verdict
    assert "Document intact, signé par Zoë Martin le " in html
    assert "; cachet de la plateforme valide" in html.replace("\u202f", "").replace(" ;", ";")
    assert html.count("intègre, certificat reconnu") == 3
    assert not problems_of(html), problems_of(html)
    assert "the signed" not in html and "trusted" not in html
    tampered = bytearray(data)
    tampered[10] ^= 0x01  # the header's binary comment: still a PDF, every signature covers it
    modified = upload(bytes(tampered)).get_data(as_text=True)
    assert "Document modifié après la signature de Zoë Martin" in modified
    assert "non reconnu" not in modified  # integrity is the finding, not the certificate
    assert not problems_of(modified), problems_of(modified)
    # one byte more: a different file, not in the archive (the signatures still verify)
    other = upload(data + b"\n")
    assert "ne figure pas dans les archives" in other.get_data(as_text=True)
    assert upload(b"hello, not a pdf", "x.pdf").status_code == 422
    assert upload(b"%PDF-1.7 broken").status_code == 422
    big = upload(b"%PDF-" + b"0" * (20 * 1024 * 1024))
    assert big.status_code == 413
    assert browser.post("/verify", data={"csrf_token": csrf}).status_code == 422
