"""Billing contacts on the client's page (sales): every field error in one submission, the
changes journaled; the invoice page shows each delivery, a failed one to act on, and the
admins' page lists it with a "Renvoyer" button (the outbox's own failed state)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.clients.billing_contacts import TAKEN, ContactInput, add_contact
from app.clients.errors import ClientInvalid
from app.clients.models import BillingContact, Client
from app.clients.services import get_client
from app.db import transaction, utcnow
from app.mail.models import MailStatus, OutgoingMailRecord
from tests.factories import count, login_as, make_client, make_invoice, runtime, session_of
from tests.factories.space import add_billing_contact
from tests.integration.helpers import post_form
from tests.together import run_together


def test_sales_add_and_edit_billing_contacts_with_every_error_at_once(app: Flask) -> None:
    client_id = make_client(app)
    sales = login_as(app, Role.SALES)
    page = f"/clients/{client_id}/facturation"
    assert "Aucun contact de facturation" in sales.get(page).get_data(as_text=True)

    bad = post_form(sales, page, {"name": "x" * 201, "email": "compta@"}, url=f"{page}/contacts")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "200 caractères au maximum." in text and "Adresse e-mail invalide" in text
    assert count(app, BillingContact) == 0

    added = post_form(
        sales,
        page,
        {"name": "Compta", "email": " Compta@Client.Example ", "active": "y"},
        url=f"{page}/contacts",
    )
    assert added.status_code == 302
    twice = post_form(
        sales, page, {"name": "Autre", "email": "compta@client.example"}, url=f"{page}/contacts"
    )
    assert twice.status_code == 422 and "déjà un contact" in twice.get_data(as_text=True)
    with session_of(app) as session:
        contact = session.scalars(select(BillingContact)).one()
        assert contact.email == "compta@client.example" and contact.active  # one case
    hostile = post_form(
        sales,
        page,
        {"name": "<script>alert(1)</script>", "email": "x@client.example", "active": "y"},
        url=f"{page}/contacts",
    )
    assert hostile.status_code == 302
    shown = sales.get(page).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in shown and "&lt;script&gt;" in shown
    off = post_form(
        sales, page, {"name": "Compta", "email": contact.email}, url=f"{page}/contacts/{contact.id}"
    )
    assert off.status_code == 302
    setting = post_form(sales, page, {}, url=f"{page}/envoi")  # box unticked: no mail
    assert setting.status_code == 302
    with session_of(app) as session:
        assert session.get(BillingContact, contact.id).active is False  # type: ignore[union-attr]
        assert session.get(Client, client_id).send_invoices_by_email is False  # type: ignore[union-attr]
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.client_id == client_id)
        ).all()
    assert {
        "billing_contact.added",
        "billing_contact.updated",
        "client.invoices_by_email_changed",
    } <= set(actions)


def test_a_failed_delivery_shows_on_the_invoice_page_and_to_the_admins(app: Flask) -> None:
    client_id = make_client(app)
    add_billing_contact(app, client_id, "compta@client.example")
    add_billing_contact(app, client_id, "daf@client.example")
    invoice_id = make_invoice(app, client_id)
    with runtime(app).session_factory.begin() as session:
        # the outbox's state after its last attempt (app.mail.records.record_failure)
        session.execute(
            update(OutgoingMailRecord)
            .where(OutgoingMailRecord.recipient == "daf@client.example")
            .values(status=MailStatus.FAILED, attempts=9, last_error="550 boîte inconnue")
        )
    sales = login_as(app, Role.SALES)
    page = sales.get(f"/factures/{invoice_id}").get_data(as_text=True)
    assert "compta@client.example : envoyé" in page
    assert "daf@client.example : échec de l&#39;envoi" in page and "après 9\xa0tentatives" in page

    admin = login_as(app, Role.ADMIN)
    failed = admin.get("/travaux/en-echec").get_data(as_text=True)
    assert "daf@client.example" in failed and "550 boîte inconnue" in failed
    with session_of(app) as session:
        mail_id = session.scalar(
            select(OutgoingMailRecord.id).where(
                OutgoingMailRecord.recipient == "daf@client.example"
            )
        )
    retried = post_form(
        admin, "/travaux/en-echec", {}, url=f"/travaux/courriels/{mail_id}/relancer"
    )
    assert retried.status_code == 302
    with session_of(app) as session:
        assert session.get(OutgoingMailRecord, mail_id).status is MailStatus.SENT  # type: ignore[union-attr]


@pytest.mark.committed_db  # twenty submissions on their own connections
def test_twenty_concurrent_additions_of_one_address_make_one_contact(app: Flask) -> None:
    client_id = make_client(app)
    factory = runtime(app).session_factory

    def add(_n: int) -> str:
        try:
            with transaction(factory) as session:
                add_contact(
                    session,
                    get_client(session, client_id),
                    ContactInput("Compta", "compta@client.example"),
                    now=utcnow(),
                    actor="test",
                )
        except ClientInvalid as exc:
            return exc.errors["email"]
        return "added"

    outcomes = run_together(20, add)
    assert sorted(outcomes) == sorted(["added"] + [TAKEN["email"]] * 19), outcomes
    assert count(app, BillingContact) == 1
