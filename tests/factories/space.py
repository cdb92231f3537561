"""Billing contacts and the client's space: contacts added through the service, sign-in
links issued as the request form does (the token kept for the test, as the mail would)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app.client_space import signin
from app.clients.billing_contacts import ContactInput, add_contact
from app.clients.services import get_client
from app.db import transaction, utcnow
from app.terms.versions import get_version_by_label
from app.terms.workflow import notify_clients, plan_notifications
from tests.conftest import csrf_from
from tests.factories.db import runtime


def add_billing_contact(
    app: Flask, client_id: int, email: str, name: str = "Service comptable", *, active: bool = True
) -> int:
    with transaction(runtime(app).session_factory) as session:
        contact = add_contact(
            session,
            get_client(session, client_id),
            ContactInput(name=name, email=email, active=active),
            now=utcnow(),
            actor="test",
        )
        return contact.id


def sign_in_token(app: Flask, email: str) -> str:
    """A fresh sign-in link's token for the one client `email` reaches."""
    with transaction(runtime(app).session_factory) as session:
        (issued,) = signin.issue_links(session, email, now=utcnow())
        return issued.token


def space_browser(app: Flask, email: str) -> FlaskClient:
    """A browser signed in to the space from a fresh link, as a contact does: the mailed
    link's page, then its button."""
    return sign_in_space(app, app.test_client(), email)


def sign_in_space(app: Flask, browser: FlaskClient, email: str) -> FlaskClient:
    """`browser` (perhaps already used by a staff member) signed in to the space as `email`."""
    token = sign_in_token(app, email)
    page = browser.get(f"/espace-client/connexion/{token}")
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    signed = browser.post(
        f"/espace-client/connexion/{token}",
        data={"csrf_token": csrf_from(page.get_data(as_text=True))},
    )
    assert signed.status_code == 302, signed.get_data(as_text=True)[:500]
    return browser


def notify_cgv(app: Flask, client_id: int, label: str) -> int:
    """The version `label` mailed to the client with its acceptance link; its id."""
    collab = runtime(app).collaborators(utcnow())
    with transaction(collab.session_factory) as session:
        version_id = get_version_by_label(session, label).id
    plan_notifications(collab, version_id)  # a row per active client, none mailed yet
    notify_clients(collab, version_id, [client_id])
    return version_id
