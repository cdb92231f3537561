"""Acting as a user through the HTTP interface, the way a browser would."""

from __future__ import annotations

import email
import re
from datetime import datetime
from email.message import Message
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Role, Scope
from app.auth.services import create_api_token, create_user, find_user
from app.db import transaction
from app.terms.models import VersionKind
from app.terms.versions import publish_version
from tests.conftest import csrf_from

PASSWORD = "un-mot-de-passe-solide"


def make_user(app: Flask, role: Role, email_addr: str | None = None) -> str:
    address = email_addr or f"{role.value}@example.test"
    with transaction(app.extensions["paraphe"].session_factory) as session:
        create_user(
            session,
            email=address,
            full_name=f"Test {role.label}",
            role=role,
            password=PASSWORD,
            now=datetime.now().astimezone(),
        )
    return address


def user_id_of(app: Flask, address: str) -> int:
    with transaction(app.extensions["paraphe"].session_factory) as session:
        return find_user(session, address).id


def make_token(app: Flask, *scopes: Scope) -> str:
    with transaction(app.extensions["paraphe"].session_factory) as session:
        _token, plaintext = create_api_token(
            session, name="test", scopes=scopes, now=datetime.now().astimezone()
        )
    return plaintext


def publish_cgv(app: Flask, body: str, label: str = "2.2", effective: str = "2022-09-04") -> None:
    from datetime import date

    with transaction(app.extensions["paraphe"].session_factory) as session:
        publish_version(
            session,
            label=label,
            title="Conditions générales de vente",
            effective_date=date.fromisoformat(effective),
            body_markdown=body,
            summary="",
            kind=VersionKind.MATERIAL,
            now=datetime.now().astimezone(),
            actor="test",
        )


def login(client: FlaskClient, address: str, password: str = PASSWORD) -> None:
    page = client.get("/connexion")
    response = client.post(
        "/connexion",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "email": address,
            "password": password,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def post_form(client: FlaskClient, page_url: str, data: dict[str, str], url: str | None = None):
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    payload = {"csrf_token": csrf_from(page.get_data(as_text=True)), **data}
    return client.post(url or page_url, data=payload)


def outbox_messages(outbox: Path) -> list[Message]:
    if not outbox.exists():
        return []
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(outbox.glob("*.eml"))]


def body_text(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


def signing_link(message: Message) -> str:
    match = re.search(r"https?://[^/\s]+(/signature/[A-Za-z0-9_\-]{40,})\s", body_text(message))
    assert match, body_text(message)
    return match.group(1)


def download_link(message: Message) -> str:
    """The sealed PDF's link in a completion mail (/signature/document/<token>)."""
    match = re.search(
        r"https?://[^/\s]+(/signature/document/[A-Za-z0-9_\-]{40,})\s", body_text(message)
    )
    assert match, body_text(message)
    return match.group(1)


def last_code(outbox: Path, to: str) -> str:
    """The one-time code in the latest code mail sent to `to`."""
    for message in reversed(outbox_messages(outbox)):
        if message["To"] == to and str(message["Subject"]).startswith("Votre code"):
            match = re.search(r"est : (\d{6})\s", body_text(message))
            assert match, body_text(message)
            return match.group(1)
    raise AssertionError(f"no code mail to {to}")


def authenticate(app: Flask, browser: FlaskClient, link: str, to: str) -> None:
    """Ask for a one-time code on the signing page and enter it, as the signer would."""
    page = browser.get(link)
    assert page.status_code == 200, page.status_code
    token = csrf_from(page.get_data(as_text=True))
    sent = browser.post(f"{link}/code", data={"csrf_token": token})
    assert sent.status_code == 200, sent.status_code
    code = last_code(app.extensions["paraphe"].settings.outbox_dir, to)
    verified = browser.post(f"{link}/verifier", data={"csrf_token": token, "code": code})
    assert verified.status_code == 302, verified.get_data(as_text=True)[:500]
