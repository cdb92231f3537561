"""The event outbox: each business change records its event in its own transaction, with
the resource's next sequence number and a payload that describes the change (no document
content); a rolled-back change records nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.archive import purge
from app.archive import workflow as archive_workflow
from app.archive.models import LinkPurpose
from app.archive.restitution import requests as restitution_requests
from app.archive.restitution.links import create_link
from app.clients.services import get_client
from app.contracts.generation import new_version
from app.contracts.queries import get_contract
from app.db import transaction, utcnow
from app.documents.models import Document, DocumentKind
from app.events.models import Event
from app.invoices import issuing, jobs, payments
from app.invoices.models import RateKind
from app.pricing.lines import LineInput
from app.quotes.services import create_quote
from app.signatures import lifecycle, links, workflow
from app.signatures.models import SignatureRequest, Signer
from app.tokens import token_hash
from tests.factories import (
    deposit_file,
    make_client,
    make_contract,
    make_contracted_client,
    make_invoice,
    make_quote,
    runtime,
    sent_link,
    session_of,
    sign_through_services,
)
from tests.factories.invoices import pay_invoice
from tests.factories.sales import publish_short_cgv
from tests.factories.webhooks import terminate_client
from tests.integration.helpers import authenticate, store_clock_at


def events(app: Flask, type: str | None = None) -> list[Event]:
    with session_of(app) as session:
        stmt = select(Event).order_by(Event.id)
        if type is not None:
            stmt = stmt.where(Event.type == type)
        found = list(session.scalars(stmt))
        session.expunge_all()
        return found


def only(app: Flask, type: str) -> dict[str, Any]:
    found = events(app, type)
    assert len(found) == 1, [e.type for e in events(app)]
    event = found[0]
    assert event.public_id.startswith("evt_") and len(event.public_id) == 28
    assert event.payload["sequence"] == event.sequence
    # What changed, never a document: a small JSON object without any content.
    text = json.dumps(event.payload)
    assert len(text) < 2000 and "content" not in event.payload and "%PDF" not in text
    return event.payload


def request_id(app: Flask) -> int:
    with session_of(app) as session:
        request = session.scalar(select(SignatureRequest))
        assert request is not None
        return request.id


def test_quote_created(app: Flask) -> None:
    client_id = make_client(app)
    quote_id = make_quote(app, client_id)
    payload = only(app, "quote.created")
    assert payload["object"] == "quote" and payload["id"] == quote_id
    assert payload["client_id"] == client_id and payload["number"].startswith("DEV-")
    assert payload["links"] == {"api": f"/api/v1/quotes/{quote_id}"}


def test_cgv_version_published(app: Flask) -> None:
    publish_short_cgv(app)
    payload = only(app, "cgv.version_published")
    assert payload["label"] == "3.0" and payload["effective_on"] == "2024-01-01"
    assert payload["links"]["api"] == f"/api/v1/cgv-versions/{payload['id']}"
    assert len(payload["sha256"]) == 64


def test_contract_generated_then_a_new_version_in_sequence(app: Flask) -> None:
    publish_short_cgv(app)
    contracted = make_contracted_client(app)
    generated = only(app, "contract.generated")
    assert generated["object"] == "contract" and generated["version"] == 1
    assert generated["quote"]["id"] == contracted.quote_id
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        new_version(
            session,
            rt.store,
            contract=get_contract(session, contracted.contract_id),
            reason="Tarif révisé",
            vendor=rt.settings.vendor,
            now=utcnow(),
            actor="test",
            author_id=None,
        )
    created = only(app, "contract.version_created")
    assert created["version"] == 2 and created["id"] == generated["id"]
    # Per resource: the contract's second event is number 2.
    assert (generated["sequence"], created["sequence"]) == (1, 2)


def test_signature_request_sent(app: Flask) -> None:
    sent_link(app)
    payload = only(app, "signature_request.sent")
    assert payload["object"] == "signature_request" and payload["id"] == request_id(app)
    assert payload["status"] == "sent"
    assert [s["name"] for s in payload["signers"]] == ["Zoë Martin"]


def test_signed_completed_and_cgv_accepted(app: Flask) -> None:
    link = sent_link(app)
    sign_through_services(app, link)  # the last signature: sealed at once (inline job)
    signed = only(app, "signer.signed")
    assert signed["object"] == "signer" and signed["signature_request_id"] == request_id(app)
    completed = only(app, "signature_request.completed")
    assert completed["status"] == "completed"
    document = completed["signed_document"]
    assert document["links"]["api"] == f"/api/v1/documents/{document['id']}"
    accepted = only(app, "cgv.accepted")
    assert accepted["method"] == "contract_signature"
    assert accepted["cgv_version"]["label"] == "3.0"
    # The request's events in order: sent (1), completed (2).
    assert completed["sequence"] == 2


def test_signer_declined_and_request_declined(app: Flask) -> None:
    link = sent_link(app)
    collab = runtime(app).collaborators(utcnow())
    workflow.decline(collab, link.rsplit("/", 1)[1], "Tarif erroné", ip=None)
    declined = only(app, "signer.declined")
    assert declined["object"] == "signer" and declined["signature_request_id"] == request_id(app)
    # The request ends with it: its own event, second in its sequence.
    closed = only(app, "signature_request.declined")
    assert closed["status"] == "declined" and closed["sequence"] == 2


def test_signature_request_cancelled(app: Flask) -> None:
    sent_link(app)
    with transaction(runtime(app).session_factory) as session:
        lifecycle.cancel(session, request_id(app), "Erreur de tarif", now=utcnow(), actor="test")
    payload = only(app, "signature_request.cancelled")
    assert payload["status"] == "cancelled" and payload["sequence"] == 2


def test_signature_request_expired(app: Flask) -> None:
    sent_link(app)
    with transaction(runtime(app).session_factory) as session:
        request = session.get(SignatureRequest, request_id(app))
        assert request is not None
        request.expires_at = utcnow() - timedelta(seconds=1)
    workflow.expire(runtime(app).collaborators(utcnow()))
    assert only(app, "signature_request.expired")["status"] == "expired"


def test_invoice_issued(app: Flask) -> None:
    client_id = make_client(app)
    invoice_id = make_invoice(app, client_id, with_pdf=False)
    payload = only(app, "invoice.issued")
    assert payload["object"] == "invoice" and payload["id"] == invoice_id
    assert payload["total_incl_vat"] == "1080.00" and payload["currency"] == "EUR"
    assert payload["links"] == {"api": f"/api/v1/invoices/{invoice_id}"}


def test_client_terminated(app: Flask) -> None:
    client_id = terminate_client(app, reason="Fin du contrat")
    payload = only(app, "client.terminated")
    assert payload == {
        "object": "client",
        "id": client_id,
        "sequence": 1,
        "links": {"api": f"/api/v1/clients/{client_id}/cgv"},
        "terminated_on": "2026-06-30",
    }


def test_a_rolled_back_change_records_no_event(app: Flask) -> None:
    client_id = make_client(app)

    class Refused(Exception):
        pass

    with pytest.raises(Refused), transaction(runtime(app).session_factory) as session:
        now = utcnow()
        create_quote(
            session,
            client=get_client(session, client_id),
            lines=[LineInput("Audit", Decimal("1"), Decimal("900"), Decimal("20"))],
            particular_terms="",
            today=now.date(),
            now=now,
            actor="test",
        )
        assert session.scalar(select(Event).where(Event.type == "quote.created")) is not None
        raise Refused
    assert events(app, "quote.created") == []


def test_contract_generation_of_a_second_quote_numbers_its_own_resource(app: Flask) -> None:
    publish_short_cgv(app)
    client_id = make_client(app)
    make_contract(app, make_quote(app, client_id))
    make_contract(app, make_quote(app, client_id))
    assert [e.sequence for e in events(app, "contract.generated")] == [1, 1]


class Refused(Exception):
    """Raised inside a transaction to roll back the change under test."""


def test_invoice_paid_once_when_nothing_is_left(app: Flask) -> None:
    rt = runtime(app)
    invoice_id = make_invoice(app, make_client(app), with_pdf=False)

    def pay(amount: str) -> None:
        with transaction(rt.session_factory) as session:
            pay_invoice(session, invoice_id, amount, on=date(2026, 11, 2), now=utcnow())

    with pytest.raises(Refused), transaction(rt.session_factory) as session:
        pay_invoice(session, invoice_id, "1080.00", on=date(2026, 11, 2), now=utcnow())
        raise Refused
    assert events(app, "invoice.paid") == []
    pay("80.00")  # partial: not paid yet
    assert events(app, "invoice.paid") == []
    pay("1000.00")
    payload = only(app, "invoice.paid")
    assert payload["object"] == "invoice" and payload["id"] == invoice_id
    assert payload["paid_on"] == "2026-11-02" and payload["total_incl_vat"] == "1080.00"
    assert payload["sequence"] == 2  # after invoice.issued
    assert payload["links"] == {"api": f"/api/v1/invoices/{invoice_id}"}


def test_invoice_overdue_once_at_its_first_reminder(app: Flask) -> None:
    rt = runtime(app)
    invoice_id = make_invoice(app, make_client(app), with_pdf=False)
    with transaction(rt.session_factory) as session:
        for kind in (RateKind.ECB, RateKind.LEGAL):
            payments.set_reference_rate(
                session, kind=kind, effective_from=date(2000, 1, 1), rate=Decimal("3"), now=utcnow()
            )
        due_on = issuing.get_invoice(session, invoice_id).due_on

    with pytest.raises(Refused), transaction(rt.session_factory) as session:
        [(row, step)] = payments.reminders_due(session, due_on + timedelta(days=2))
        payments.record_reminder(session, row=row, step=step, now=utcnow())
        raise Refused
    assert events(app, "invoice.overdue") == []
    for days in (2, 2, 20, 40):  # the first step, again (nothing due), then two more steps
        jobs.send_reminders(
            rt.session_factory, rt.mailer, as_of=due_on + timedelta(days), now=utcnow()
        )
    payload = only(app, "invoice.overdue")
    assert payload["object"] == "invoice" and payload["id"] == invoice_id
    assert payload["due_on"] == due_on.isoformat() and payload["days_late"] == 2
    assert payload["amount_due"] == "1080.00"
    assert payload["links"] == {"api": f"/api/v1/invoices/{invoice_id}"}


def test_credit_note_issued(app: Flask) -> None:
    rt = runtime(app)
    invoice_id = make_invoice(app, make_client(app), with_pdf=False)

    def credit(session: Session) -> int:
        return issuing.issue_credit_note(
            session,
            invoice=issuing.get_invoice(session, invoice_id),
            reason="Annulation",
            now=utcnow(),
            actor="test",
        ).id

    with pytest.raises(Refused), transaction(rt.session_factory) as session:
        credit(session)
        raise Refused
    assert events(app, "credit_note.issued") == []
    with transaction(rt.session_factory) as session:
        note_id = credit(session)
    payload = only(app, "credit_note.issued")
    assert payload["object"] == "credit_note" and payload["id"] == note_id
    assert payload["invoice"]["id"] == invoice_id and payload["total_incl_vat"] == "1080.00"
    assert payload["links"] == {"api": f"/api/v1/credit-notes/{note_id}"}
    assert payload["invoice"]["links"] == {"api": f"/api/v1/invoices/{invoice_id}"}


def test_restitution_ready_once_per_request(app: Flask) -> None:
    client_id = make_client(app)
    make_invoice(app, client_id)  # a document to restitute
    collab = runtime(app).collaborators(utcnow())
    request_id = archive_workflow.order_restitution(collab, client_id, actor="token:1")
    document_id = deposit_file(app, client_id, DocumentKind.QUOTE, "DEV-2026-0009").id
    with pytest.raises(Refused), transaction(runtime(app).session_factory) as session:
        request = restitution_requests.get_request(session, request_id, lock=True)
        link, _token = create_link(
            session,
            client_id,
            purpose=LinkPurpose.DOWNLOAD,
            document_id=None,
            now=utcnow(),
            actor="test",
        )
        restitution_requests.mark_ready(
            session, request, document_id=document_id, link=link, now=utcnow()
        )
        raise Refused
    assert events(app, "restitution.ready") == []
    archive_workflow.fulfil_restitution(collab, request_id)
    archive_workflow.fulfil_restitution(collab, request_id)  # a retry: nothing more
    payload = only(app, "restitution.ready")
    assert payload["object"] == "restitution_request" and payload["id"] == request_id
    assert payload["links"] == {"api": f"/api/v1/restitution-requests/{request_id}"}
    assert payload["client_id"] == client_id
    document_id = payload["document"]["id"]
    assert payload["document"]["links"] == {"api": f"/api/v1/documents/{document_id}"}


def test_restitution_answered_at_once_is_ready_once_per_request(app: Flask) -> None:
    client_id = make_client(app)
    make_invoice(app, client_id)  # a document to restitute
    collab = runtime(app).collaborators(utcnow())
    archive_workflow.fulfil_restitution(
        collab, archive_workflow.order_restitution(collab, client_id, actor="token:1")
    )
    assert len(events(app, "restitution.ready")) == 1  # the job's
    assert archive_workflow.restitution_is_current(collab, client_id)

    # Nothing changed since: the archivist's request is answered at once, no job.
    delivery = archive_workflow.request_restitution(
        collab, client_id, actor="token:1", download_url=lambda token: f"https://x/{token}"
    )

    assert not delivery.built.created
    first, second = events(app, "restitution.ready")
    payload = second.payload
    assert payload["object"] == "restitution_request" and payload["id"] != first.payload["id"]
    assert payload["client_id"] == client_id and payload["sequence"] == 1
    assert payload["document"]["id"] == delivery.built.record.document.id
    with transaction(runtime(app).session_factory) as session:
        request = restitution_requests.get_request(session, payload["id"])
        assert request.status.value == "ready" and request.download_link_id is not None
        assert request.mail_sent_to == delivery.mail_sent_to is not None

    # The contact's own request link, answered at once too: one more request, one more event.
    with transaction(runtime(app).session_factory) as session:
        _link, token = create_link(
            session,
            client_id,
            purpose=LinkPurpose.REQUEST,
            document_id=None,
            now=utcnow(),
            actor="test",
        )
    archive_workflow.request_by_link(collab, token, download_url=lambda t: f"https://x/{t}")
    third = events(app, "restitution.ready")[-1].payload
    assert len(events(app, "restitution.ready")) == 3 and third["id"] != payload["id"]
    with transaction(runtime(app).session_factory) as session:
        assert restitution_requests.request_of_link(session, token).id == third["id"]


def test_document_purged_once(app: Flask) -> None:
    rt = runtime(app)
    deposited = datetime(2020, 1, 6, 9, 0, tzinfo=UTC)
    document = deposit_file(
        app, make_client(app), DocumentKind.QUOTE, "DEV-2020-0001", now=deposited, retention=False
    )
    with transaction(rt.session_factory) as session:
        session.get_one(Document, document.id).retention_until = date(2021, 1, 6)
    today = date(2021, 2, 1)
    now = datetime(2021, 2, 1, 3, 0, tzinfo=UTC)
    store = store_clock_at(rt, now).store
    with pytest.raises(Refused), transaction(rt.session_factory) as session:
        assert purge.purge_document(session, store, document.id, today=today, now=now, actor="t")
        raise Refused
    assert events(app, "document.purged") == []
    for _ in range(2):  # a rerun finds nothing more to purge
        with transaction(rt.session_factory) as session:
            purge.purge_document(session, store, document.id, today=today, now=now, actor="t")
    payload = only(app, "document.purged")
    assert payload["object"] == "document" and payload["id"] == document.id
    assert payload["links"] == {"api": f"/api/v1/documents/{document.id}"}
    assert payload["reference"] == "DEV-2020-0001" and payload["retention_until"] == "2021-01-06"


def test_signer_viewed_once_after_the_code(app: Flask) -> None:
    link = sent_link(app)
    browser = app.test_client()
    # Before the code, the document read is no view for the receivers.
    assert browser.get(f"{link}/contrat.pdf").status_code == 200
    assert events(app, "signer.viewed") == []
    authenticate(app, browser, link, "zoe@example.fr")
    assert browser.get(f"{link}/contrat.pdf").status_code == 200
    assert browser.get(f"{link}/contrat.pdf").status_code == 200
    payload = only(app, "signer.viewed")
    assert payload["object"] == "signer" and payload["signature_request_id"] == request_id(app)
    assert payload["contract"]["version"] == 1


def test_signer_viewed_rolled_back_records_nothing(app: Flask) -> None:
    link = sent_link(app)
    token = link.rsplit("/", 1)[1]
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        signer = session.scalar(select(Signer).where(Signer.token_hash == token_hash(token)))
        assert signer is not None
        signer.authenticated_at = utcnow()
    with pytest.raises(Refused), transaction(rt.session_factory) as session:
        assert links.mark_viewed(session, token, now=utcnow())
        raise Refused
    assert events(app, "signer.viewed") == []
    with transaction(rt.session_factory) as session:
        assert links.mark_viewed(session, token, now=utcnow())
    with transaction(rt.session_factory) as session:
        assert not links.mark_viewed(session, token, now=utcnow())
    assert len(events(app, "signer.viewed")) == 1
