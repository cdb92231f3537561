"""Issued invoices go to the client's billing contacts through the real SMTP server on
loopback: one mail per active contact with the Factur-X PDF attached, never twice, a contact
added later gets the next invoice, and the journal holds each mail's Message-ID."""

from __future__ import annotations

import json
from email.message import EmailMessage

from facturx import get_facturx_xml_from_pdf
from flask import Flask
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.clients.billing_contacts import set_invoices_by_email
from app.clients.services import get_client
from app.db import transaction, utcnow
from app.invoices.models import Invoice
from app.rendering.french import format_date
from tests import en16931
from tests.factories import annual_plan, make_client, make_credit_note, make_invoice, runtime
from tests.factories.space import add_billing_contact
from tests.integration.smtp_server import Inbox


def _billing_mails(inbox: Inbox) -> list[EmailMessage]:
    # the signing of the contract mails its signer too: only the invoices and credit notes here
    return [
        m for m in inbox.messages if " : facture " in m["Subject"] or " : avoir " in m["Subject"]
    ]


def _run(app: Flask, period: str) -> None:
    result = app.test_cli_runner().invoke(args=["invoices", "run", "--period", period])
    assert result.exit_code == 0, result.output


def _pdf_of(message: EmailMessage) -> bytes:
    (part,) = list(message.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    data = part.get_content()
    assert isinstance(data, bytes)
    return data


def test_an_invoice_run_mails_each_active_contact_once_with_its_factur_x(
    smtp_app: Flask, inbox: Inbox
) -> None:
    app = smtp_app
    client_id = make_client(app)
    annual_plan(app, client_id)
    add_billing_contact(app, client_id, "compta@client.example", "Compta")
    add_billing_contact(app, client_id, "daf@client.example", "Direction financière")
    add_billing_contact(app, client_id, "ancien@client.example", "Ancien", active=False)

    _run(app, "2026-01")
    mails = _billing_mails(inbox)
    assert sorted(m["To"] for m in mails) == ["compta@client.example", "daf@client.example"]
    with runtime(app).session_factory() as session:
        invoice = session.scalars(select(Invoice).where(Invoice.client_id == client_id)).one()
        vendor = runtime(app).settings.vendor.legal_name
        for message in mails:
            subject = message["Subject"]
            assert subject == (
                f"{vendor} : facture {invoice.number} de 1 200,00 € TTC, "
                f"à régler avant le {format_date(invoice.due_on)}"
            )
            plain = message.get_body(("plain",))
            assert plain is not None, "the mail has a plain-text part"
            assert "/espace-client" in plain.get_content()
            pdf = _pdf_of(message)
            _, xml = get_facturx_xml_from_pdf(pdf, check_xsd=True)
            assert not en16931.check(xml).rules_broken, en16931.check(xml).violations
        # The proof of sending: each mail's Message-ID in the journal, with its recipient.
        journaled = {
            json.loads(e.details or "{}")["to"]: json.loads(e.details or "{}")["message_id"]
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.action == "invoice.mailed")
            )
        }
    assert journaled == {m["To"]: m["Message-ID"] for m in mails}

    _run(app, "2026-01")  # the same period again: nothing issued, nothing mailed
    assert len(_billing_mails(inbox)) == 2

    add_billing_contact(app, client_id, "nouveau@client.example", "Nouveau")
    _run(app, "2027-01")
    later = _billing_mails(inbox)[2:]
    assert sorted(m["To"] for m in later) == [
        "compta@client.example",
        "daf@client.example",
        "nouveau@client.example",
    ]


def test_a_credit_note_is_mailed_too_and_the_setting_off_mails_nothing(
    smtp_app: Flask, inbox: Inbox
) -> None:
    app = smtp_app
    client_id = make_client(app)
    add_billing_contact(app, client_id, "compta@client.example")
    make_credit_note(app, client_id)  # its invoice, then the credit note cancelling it
    subjects = [m["Subject"] for m in _billing_mails(inbox)]
    assert len(subjects) == 2 and " : avoir AV-" in subjects[1], subjects

    with transaction(runtime(app).session_factory) as session:
        set_invoices_by_email(
            session, get_client(session, client_id), False, now=utcnow(), actor="test"
        )
    make_invoice(app, client_id)
    assert len(_billing_mails(inbox)) == 2
