"""The event outbox: each business change records its event in its own transaction, with
the resource's next sequence number and a payload that describes the change (no document
content); a rolled-back change records nothing."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.clients.services import get_client, terminate
from app.contracts.generation import new_version
from app.contracts.queries import get_contract
from app.db import transaction, utcnow
from app.events.models import Event
from app.pricing.lines import LineInput
from app.quotes.services import create_quote
from app.signatures import lifecycle, workflow
from app.signatures.models import SignatureRequest
from tests.factories import (
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
from tests.factories.sales import publish_short_cgv


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


def test_client_terminated(app: Flask) -> None:
    client_id = make_client(app)
    with transaction(runtime(app).session_factory) as session:
        terminate(
            session,
            get_client(session, client_id),
            on=date(2026, 6, 30),
            reason="Fin du contrat",
            actor="test",
            now=utcnow(),
        )
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
