"""One-time codes: the link alone does not sign. A 6-digit code sent by email, stored as an
HMAC, valid 10 minutes, five failures lock the signer and tell the sender; the code binds to
the browser that entered it; per-link rate limits."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from app.auth.models import Role
from app.db import transaction, utcnow
from app.signatures.models import Signer, SignerStatus
from tests.conftest import csrf_from
from tests.factories import (
    make_contracted_client,
    make_fast_user,
    publish_short_cgv,
    runtime,
    send_contract,
    session_of,
    signer_of,
)
from tests.integration.helpers import authenticate, body_text, last_code, outbox_messages

SIGNER = "zoe@example.fr"


def alert_of(html: str) -> str:
    match = re.search(r'<p class="error-text" role="alert">(.*?)</p>', html, re.S)
    assert match, html[-1500:]
    return unescape(match.group(1))


def ask_code(app: Flask, browser: FlaskClient, link: str) -> tuple[str, str]:
    csrf = csrf_from(browser.get(link).get_data(as_text=True))
    assert browser.post(f"{link}/code", data={"csrf_token": csrf}).status_code == 200
    return csrf, last_code(runtime(app).settings.outbox_dir, SIGNER)


def test_signing_needs_a_code_entered_in_this_browser(app: Flask, link: str) -> None:
    browser = app.test_client()
    page = browser.get(link).get_data(as_text=True)
    assert 'id="send-code"' in page and 'id="sign"' not in page
    csrf = csrf_from(page)
    consent = {"csrf_token": csrf, "accept_cgv": "oui", "agree": "oui"}
    refused = browser.post(link, data=consent)
    assert refused.status_code == 403
    assert alert_of(refused.get_data(as_text=True)) == "Saisissez d'abord le code reçu par e-mail."

    authenticate(app, browser, link, SIGNER)
    assert signer_of(app, link).status is SignerStatus.AUTHENTICATED
    # another browser holding the same link is not authenticated
    other = app.test_client()
    other_csrf = csrf_from(other.get(link).get_data(as_text=True))
    assert other.post(link, data={**consent, "csrf_token": other_csrf}).status_code == 403
    assert browser.post(link, data=consent).status_code == 302
    assert signer_of(app, link).status is SignerStatus.SIGNED


def test_code_is_stored_as_hmac_only_and_used_once(app: Flask, link: str) -> None:
    browser = app.test_client()
    csrf, code = ask_code(app, browser, link)
    assert re.fullmatch(r"\d{6}", code)
    row = signer_of(app, link)
    assert row.otp_hash is not None and code not in row.otp_hash
    with session_of(app) as session:
        for table in ("signers", "audit_events"):
            for values in session.execute(text(f'SELECT * FROM "{table}"')):
                assert all(f"{code}" != str(v) for v in values), table
    ok = browser.post(f"{link}/verifier", data={"csrf_token": csrf, "code": f" {code} "})
    assert ok.status_code == 302
    # the same code a second time, from another browser: spent
    other = app.test_client()
    other_csrf = csrf_from(other.get(link).get_data(as_text=True))
    again = other.post(f"{link}/verifier", data={"csrf_token": other_csrf, "code": code})
    assert again.status_code == 422


def test_expired_code_is_refused(app: Flask, link: str) -> None:
    browser = app.test_client()
    csrf, code = ask_code(app, browser, link)
    with transaction(runtime(app).session_factory) as session:
        signer = session.scalar(select(Signer))
        assert signer is not None
        signer.otp_expires_at = utcnow() - timedelta(seconds=1)
    refused = browser.post(f"{link}/verifier", data={"csrf_token": csrf, "code": code})
    assert refused.status_code == 422
    assert "a expiré (10 minutes)" in alert_of(refused.get_data(as_text=True))


def test_five_wrong_codes_lock_the_signer_and_tell_the_sender(app: Flask) -> None:
    publish_short_cgv(app)
    sales = make_fast_user(app, Role.SALES)
    contract_id = make_contracted_client(app).contract_id
    link = send_contract(app, contract_id)
    with transaction(runtime(app).session_factory) as session:  # sent by this sales user
        from app.auth.models import User
        from app.signatures.models import SignatureRequest

        request = session.scalar(select(SignatureRequest))
        assert request is not None
        request.created_by_id = session.scalar(select(User.id).where(User.email == sales))
    browser = app.test_client()
    csrf, code = ask_code(app, browser, link)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        response = browser.post(f"{link}/verifier", data={"csrf_token": csrf, "code": wrong})
        assert response.status_code == 422
        expected = f"Il vous reste {left} essai{'s' if left > 1 else ''}"
        assert expected in alert_of(response.get_data(as_text=True))
    locked = browser.post(f"{link}/verifier", data={"csrf_token": csrf, "code": "abc"})
    assert locked.status_code == 403
    assert "ce lien est bloqué" in alert_of(locked.get_data(as_text=True))
    # now even the right code, or a new one, is refused
    assert (
        browser.post(f"{link}/verifier", data={"csrf_token": csrf, "code": code}).status_code == 403
    )
    assert browser.post(f"{link}/code", data={"csrf_token": csrf}).status_code == 403
    assert signer_of(app, link).otp_locked_at is not None
    notices = [m for m in outbox_messages(runtime(app).settings.outbox_dir) if m["To"] == sales]
    assert len(notices) == 1 and "codes erronés" in body_text(notices[0])


def test_codes_are_rate_limited_per_link(app: Flask, link: str) -> None:
    browser = app.test_client()
    csrf = csrf_from(browser.get(link).get_data(as_text=True))
    statuses = [
        browser.post(f"{link}/code", data={"csrf_token": csrf}).status_code for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    # another link is not affected
    other = send_contract(
        app, make_contracted_client(app, siren="732829320", vat_number="FR44732829320").contract_id
    )
    other_csrf = csrf_from(browser.get(other).get_data(as_text=True))
    assert browser.post(f"{other}/code", data={"csrf_token": other_csrf}).status_code == 200


def test_the_exact_cgv_version_opens_as_a_pdf_rendered_once(app: Flask, link: str) -> None:
    import io

    from pypdf import PdfReader

    from app.documents.models import Document, DocumentKind
    from tests.factories import count

    browser = app.test_client()
    page = browser.get(link).get_data(as_text=True)
    assert f"{link}/cgv.pdf" in page
    first = browser.get(f"{link}/cgv.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(first.data)).pages)
    with session_of(app) as session:
        from app.terms.models import CgvVersion

        cgv = session.scalar(select(CgvVersion))
        assert cgv is not None
    assert "version 3.0" in text.lower() and cgv.sha256 in text.replace("\n", "")
    assert "Article 2. Prix" in text
    again = app.test_client().get(f"{link}/cgv.pdf")
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    assert count(app, Document, Document.kind == DocumentKind.CGV) == 1
