"""Invoices and credit notes in the API (scope read): what the invoice's page shows, the PDF
through the documents API, and the links the `invoice.*` / `credit_note.issued` webhooks
carry lead to these resources."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.auth.models import Scope
from app.clock import business_date
from app.db import transaction, utcnow
from app.events.models import Event
from app.invoices.models import Invoice
from tests.factories import make_client, make_token, runtime, session_of
from tests.factories.invoices import make_credit_note, make_invoice, pay_invoice


def _bearer(app: Flask, *scopes: Scope) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(app, *scopes)}"}


def _links_of(app: Flask, event_type: str) -> dict[str, str]:
    with session_of(app) as session:
        event = session.scalars(select(Event).where(Event.type == event_type)).one()
        links: dict[str, str] = event.payload["links"]
        return links


def _read_by_link(app: Flask, event_type: str) -> tuple[FlaskClient, dict[str, str], Any]:
    """The resource the API link of the ``event_type`` webhook names, read with the read
    scope: (the HTTP client, its credentials, the resource)."""
    client = app.test_client()
    reader = _bearer(app, Scope.READ)
    answer = client.get(_links_of(app, event_type)["api"], headers=reader)
    assert answer.status_code == 200
    return client, reader, answer.get_json()


def test_an_invoice_read_through_the_link_of_its_webhook(app: Flask) -> None:
    client_id = make_client(app)
    # Issued today: the API tells "open" from "overdue" by the real clock.
    invoice_id = make_invoice(app, client_id, now=utcnow())

    client, reader, invoice = _read_by_link(app, "invoice.issued")

    assert invoice["id"] == invoice_id and invoice["number"].startswith("FA")
    assert (invoice["client_id"], invoice["contract_id"]) == (client_id, None)
    assert (invoice["total_excl_vat"], invoice["total_vat"], invoice["total_incl_vat"]) == (
        "900.00",
        "180.00",
        "1080.00",
    )
    assert (invoice["amount_paid"], invoice["amount_due"]) == ("0.00", "1080.00")
    assert invoice["status"] == "open" and invoice["credit_notes"] == []
    assert date.fromisoformat(invoice["due_on"]) >= date.fromisoformat(invoice["issued_on"])
    pdf = client.get(invoice["links"]["content"], headers=reader)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get(invoice["links"]["client"], headers=reader).status_code == 200

    # Past its due date with something left: overdue; then paid in full.
    with transaction(runtime(app).session_factory) as session:
        # Due long ago, whatever today's date: overdue.
        session.execute(
            update(Invoice).where(Invoice.id == invoice_id).values(due_on=date(2020, 1, 1))
        )
    assert (
        client.get(f"/api/v1/invoices/{invoice_id}", headers=reader).get_json()["status"]
        == "overdue"
    )
    with transaction(runtime(app).session_factory) as session:
        # Paid today: a payment never predates its invoice.
        pay_invoice(session, invoice_id, "1080.00", on=business_date(utcnow()), now=utcnow())
    paid = client.get(_links_of(app, "invoice.paid")["api"], headers=reader).get_json()
    assert (paid["status"], paid["amount_paid"], paid["amount_due"]) == ("paid", "1080.00", "0.00")


def test_a_credit_note_read_through_the_link_of_its_webhook(app: Flask) -> None:
    client_id = make_client(app)
    note_id = make_credit_note(app, client_id)

    client, reader, note = _read_by_link(app, "credit_note.issued")

    assert note["id"] == note_id and note["reason"] == "Annulation"
    assert note["total_incl_vat"] == "1080.00" and note["client_id"] == client_id
    assert client.get(note["links"]["content"], headers=reader).data.startswith(b"%PDF")
    invoice = client.get(note["links"]["invoice"], headers=reader).get_json()
    assert invoice["id"] == note["invoice"]["id"]
    assert invoice["status"] == "credited" and invoice["amount_due"] == "0.00"
    assert [n["links"]["self"] for n in invoice["credit_notes"]] == [note["links"]["self"]]


def test_invoices_need_the_read_scope_and_exist(app: Flask) -> None:
    invoice_id = make_invoice(app, make_client(app), with_pdf=False)
    client = app.test_client()
    pending = client.get(f"/api/v1/invoices/{invoice_id}", headers=_bearer(app, Scope.READ))
    # Its PDF not produced yet: no link to follow.
    assert pending.get_json()["links"]["document"] is None
    assert pending.get_json()["links"]["content"] is None
    writer = _bearer(app, Scope.WRITE)
    assert client.get(f"/api/v1/invoices/{invoice_id}", headers=writer).status_code == 403
    assert client.get(f"/api/v1/invoices/{invoice_id}").status_code == 401
    for missing in ("/api/v1/invoices/999999", "/api/v1/credit-notes/999999"):
        answer = client.get(missing, headers=_bearer(app, Scope.READ))
        assert answer.status_code == 404 and answer.mimetype == "application/problem+json"
        assert "introuvable" in answer.get_json()["detail"]
