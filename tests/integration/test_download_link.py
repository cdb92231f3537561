"""The link mailed at completion downloads the signed contract for a limited time: a bearer
link in a mail must not open a contract forever. The mail says until when, and where the
contract is afterwards."""

from __future__ import annotations

import html
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from app.db import transaction, utcnow
from app.rendering.french import format_date
from app.signatures.models import SignatureRequest
from tests.factories.db import runtime
from tests.factories.signing import completion_mail_texts, sign_completely


def _complete_since(app: Flask, days: float) -> None:
    """Date the request's completion `days` before now, as if it had been sealed then."""
    with transaction(runtime(app).session_factory) as session:
        request = session.scalars(select(SignatureRequest)).one()
        request.completed_at = utcnow() - timedelta(days=days)


def test_the_completion_mail_says_until_when_its_link_opens_and_where_the_contract_is_after(
    app: Flask,
) -> None:
    sign_completely(app)
    with transaction(runtime(app).session_factory) as session:
        completed_at = session.scalars(select(SignatureRequest)).one().completed_at
    assert completed_at is not None
    (mail,) = completion_mail_texts(app)
    until = format_date(completed_at + timedelta(days=30))
    assert f"Ce lien est valable jusqu'au {until}." in mail
    base_url = runtime(app).settings.base_url
    # the client's signer is pointed to the client space, where the contract stays
    assert f"retrouvez le contrat signé dans votre espace client ({base_url}/espace-client/)" in (
        mail
    )


def test_the_download_link_opens_for_thirty_days_then_says_it_expired(app: Flask) -> None:
    signed = sign_completely(app)
    link = f"/signature/document/{signed.download_token}"
    client = app.test_client()

    _complete_since(app, 29.9)
    opened = client.get(link)
    assert opened.status_code == 200 and opened.data.startswith(b"%PDF-")

    _complete_since(app, 30.1)
    gone = client.get(link)
    assert gone.status_code == 410
    page = html.unescape(gone.get_data(as_text=True))
    assert "Ce lien de téléchargement a expiré le" in page
    assert "espace client" in page
    assert b"%PDF-" not in gone.data


def test_an_unknown_download_link_is_not_found(app: Flask) -> None:
    sign_completely(app)
    response = app.test_client().get("/signature/document/" + "x" * 43)
    assert response.status_code == 404
    assert "Ce lien de téléchargement n'existe pas." in html.unescape(
        response.get_data(as_text=True)
    )
