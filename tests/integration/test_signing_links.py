"""Signing links: the link is the signer's only credential. Unknown → 404, expired or used →
410 (the signed PDF stays downloadable), missing consent → 422 with nothing recorded, and a
link signs at most once."""

from __future__ import annotations

import hashlib
import re
from html import unescape

import pytest
from flask import Flask
from sqlalchemy import select, text

from app.audit.models import AuditEvent
from app.documents.models import Document, DocumentKind
from app.signatures.models import RequestStatus, SignatureRequest, SignerStatus
from app.terms.models import CgvAcceptance
from tests.conftest import csrf_from
from tests.factories import (
    count,
    expire_link,
    runtime,
    sent_link,
    session_of,
    signer_of,
)
from tests.integration.fixtures_security import check_each, csrf_of_session
from tests.integration.helpers import authenticate


@pytest.fixture
def link(app: Flask) -> str:
    """A fresh signing link (/signature/<token>) for a generated contract."""
    return sent_link(app)


def signing_records(app: Flask) -> tuple[int, int, int]:
    """(signed contract documents, CGV acceptances, signature.signed journal entries)."""
    return (
        count(app, Document, Document.kind == DocumentKind.SIGNED_CONTRACT),
        count(app, CgvAcceptance),
        count(app, AuditEvent, AuditEvent.action == "signature.signed"),
    )


def test_unknown_token_is_404_everywhere(app: Flask) -> None:
    real = sent_link(app)
    browser = app.test_client()
    token = csrf_of_session(browser)
    unknown = "/signature/" + "x" * 43
    truncated = real[:-1]

    def check(url: str, method: str) -> None:
        data = {"csrf_token": token, "accept_cgv": "oui", "agree": "oui"}
        response = browser.open(url, method=method, data=data if method == "POST" else None)
        assert response.status_code == 404, response.status_code
        assert response.mimetype == "text/html"
        assert "Ce lien de signature n'existe pas" in unescape(response.get_data(as_text=True))

    check_each(
        [
            (base + suffix, "GET")
            for base in (unknown, truncated)
            for suffix in ("", "/contrat.pdf", "/termine", "/document-signe.pdf")
        ]
        + [(unknown, "POST"), (truncated, "POST")],
        check,
    )
    assert signing_records(app) == (0, 0, 0)
    assert signer_of(app, real).status is SignerStatus.NOTIFIED  # the real one is untouched


def test_expired_link_is_410_and_cannot_sign(app: Flask, link: str) -> None:
    browser = app.test_client()
    page = browser.get(link)
    assert page.status_code == 200
    token = csrf_from(page.get_data(as_text=True))
    expire_link(app, link)

    response = browser.get(link)
    assert response.status_code == 410
    html = unescape(response.get_data(as_text=True))
    assert "Ce lien de signature a expiré. Demandez un nouvel envoi." in html
    assert "document-signe.pdf" not in html  # nothing signed, nothing offered

    response = browser.post(link, data={"csrf_token": token, "accept_cgv": "oui", "agree": "oui"})
    assert response.status_code == 410
    assert browser.get(f"{link}/contrat.pdf").status_code == 410
    assert browser.get(f"{link}/document-signe.pdf").status_code == 410
    assert signing_records(app) == (0, 0, 0)
    signer = signer_of(app, link)
    assert signer.status is SignerStatus.OPENED and signer.signed_at is None


def test_missing_consent_is_422_and_records_nothing(app: Flask, link: str) -> None:
    browser = app.test_client()
    authenticate(app, browser, link, "zoe@example.fr")
    page = browser.get(link)
    token = csrf_from(page.get_data(as_text=True))

    cgv = "l'acceptation des conditions générales de vente"
    agreement = "la mention « Bon pour accord »"

    def check(form: dict[str, str], missing: set[str]) -> None:
        response = browser.post(link, data={"csrf_token": token, **form})
        assert response.status_code == 422, response.status_code
        html = response.get_data(as_text=True)
        alert = re.search(r'<p class="error-text" role="alert">(.*?)</p>', html, re.S)
        assert alert, "no error message shown"
        message = unescape(alert.group(1))
        assert message.startswith("Pour signer, cochez"), message
        assert {part for part in (cgv, agreement) if part in message} == missing, message
        assert 'id="sign"' in html  # the form is shown again
        assert signing_records(app) == (0, 0, 0)

    check_each(
        [
            ({}, {cgv, agreement}),
            ({"agree": "oui"}, {cgv}),
            ({"accept_cgv": "oui"}, {agreement}),
            ({"accept_cgv": "on", "agree": "on"}, {cgv, agreement}),  # only "oui" counts
            ({"accept_cgv": "", "agree": "oui"}, {cgv}),
        ],
        check,
    )
    signer = signer_of(app, link)
    assert signer.status is SignerStatus.AUTHENTICATED and signer.consent_text is None
    with session_of(app) as session:
        request = session.scalar(select(SignatureRequest))
        assert request is not None and request.status is RequestStatus.SENT
        assert request.signed_document_id is None
    # without the CSRF token the signature is refused before anything else
    response = browser.post(link, data={"accept_cgv": "oui", "agree": "oui"})
    assert response.status_code == 400
    assert signing_records(app) == (0, 0, 0)
    assert browser.get(link).status_code == 200  # the link still works


def test_a_link_signs_once_then_is_410_with_the_signed_pdf_kept(app: Flask, link: str) -> None:
    browser = app.test_client()
    authenticate(app, browser, link, "zoe@example.fr")
    token = csrf_from(browser.get(link).get_data(as_text=True))
    consent = {"csrf_token": token, "accept_cgv": "oui", "agree": "oui"}

    first = browser.post(link, data=consent)
    assert first.status_code == 302 and first.headers["Location"].endswith(f"{link}/termine")
    second = browser.post(link, data=consent)  # double submission, e.g. a second click
    assert second.status_code == 410
    assert "déjà servi" in unescape(second.get_data(as_text=True))
    assert signing_records(app) == (1, 1, 1)

    with session_of(app) as session:
        (document,) = session.scalars(
            select(Document).where(Document.kind == DocumentKind.SIGNED_CONTRACT)
        ).all()
        (acceptance,) = session.scalars(select(CgvAcceptance)).all()
        assert acceptance.signature_request_id is not None
    stored = runtime(app).store.get(document.sha256)

    # the used link: 410 page offering the signed PDF, which stays downloadable
    for visitor in (browser, app.test_client()):
        gone = visitor.get(link)
        assert gone.status_code == 410
        html = unescape(gone.get_data(as_text=True))
        assert "Ce lien a déjà servi : le document a été signé le" in html
        assert f"{link}/document-signe.pdf" in html
        signed = visitor.get(f"{link}/document-signe.pdf")
        assert signed.status_code == 200 and signed.mimetype == "application/pdf"
        assert signed.data == stored
        assert signed.headers["Cache-Control"] == "private, no-store"
        assert visitor.get(f"{link}/termine").status_code == 200

    # a third attempt from another browser changes nothing either
    other = app.test_client()
    late = other.post(
        link, data={"csrf_token": csrf_of_session(other), "accept_cgv": "oui", "agree": "oui"}
    )
    assert late.status_code == 410
    assert signing_records(app) == (1, 1, 1)


def test_link_token_stays_secret(app: Flask, link: str) -> None:
    token = link.rsplit("/", 1)[1]
    # stored only as its SHA-256: a database leak yields no usable link
    assert signer_of(app, link).token_hash == hashlib.sha256(token.encode()).hexdigest()
    with session_of(app) as session:
        for table in ("signers", "signature_requests", "audit_events", "documents"):
            for row in session.execute(text(f'SELECT * FROM "{table}"')):
                assert all(token not in str(value) for value in row), table
    # the token is in the URL: no Referer may carry it away, no cache may keep the PDF
    browser = app.test_client()
    for url in (link, f"{link}/contrat.pdf"):
        response = browser.get(url)
        assert response.status_code == 200
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert browser.get(f"{link}/contrat.pdf").headers["Cache-Control"] == "private, no-store"
