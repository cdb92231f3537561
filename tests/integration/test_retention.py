"""Retention dates set at deposit and at termination; legal hold placed and lifted by an
administrator token, each change journaled."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import Scope
from app.db import transaction
from app.documents.models import DocumentKind
from tests.factories import deposit_file, make_client, make_token
from tests.integration.helpers import problem_fields

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _deposit(app: Flask, client_id: int, kind: DocumentKind, reference: str) -> int:
    return deposit_file(
        app, client_id, kind, reference, data=f"%PDF-1.7 {reference}".encode(), now=T0
    ).id


def test_termination_dates_the_retention_of_each_document(app: Flask, client: FlaskClient) -> None:
    client_id = make_client(app)
    invoice = _deposit(app, client_id, DocumentKind.INVOICE, "FAC-2026-0001")
    signed = _deposit(app, client_id, DocumentKind.SIGNED_CONTRACT, "CTR-2026-0001")
    quote = _deposit(app, client_id, DocumentKind.QUOTE, "DEV-2026-0001")
    read = {"Authorization": f"Bearer {make_token(app, Scope.READ)}"}

    def until(document_id: int) -> str | None:
        body = client.get(f"/api/v1/documents/{document_id}", headers=read).get_json()
        retention_until = body["retention_until"]
        assert retention_until is None or isinstance(retention_until, str), retention_until
        return retention_until

    assert until(invoice) == "2036-12-31"  # known at deposit
    assert until(signed) is None and until(quote) is None  # the contract has not ended

    restitution = {"Authorization": f"Bearer {make_token(app, Scope.RESTITUTION)}"}
    response = client.post(
        f"/api/v1/clients/{client_id}/termination",
        json={"terminated_on": "2026-06-30", "reason": "fin d'abonnement"},
        headers=restitution,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert until(invoice) == "2036-12-31"
    assert until(signed) == "2031-06-30"
    assert until(quote) == "2026-12-30"
    with transaction(app.extensions["paraphe"].session_factory) as session:
        changed = session.scalars(
            select(AuditEvent.subject_id).where(AuditEvent.action == "document.retention_set")
        ).all()
    assert sorted(changed) == sorted([str(signed), str(quote)])


def test_legal_hold_needs_admin_scope_and_is_journaled(app: Flask, client: FlaskClient) -> None:
    client_id = make_client(app)
    document_id = _deposit(app, client_id, DocumentKind.QUOTE, "DEV-2026-0002")
    url = f"/api/v1/documents/{document_id}/legal-hold"
    admin = {"Authorization": f"Bearer {make_token(app, Scope.ADMIN)}"}
    reader = {"Authorization": f"Bearer {make_token(app, Scope.READ)}"}

    assert client.put(url, json={"reason": "x"}, headers=reader).status_code == 403
    missing = client.put(url, json={}, headers=admin)
    assert missing.status_code == 422 and "reason" in problem_fields(missing.get_json())

    placed = client.put(url, json={"reason": "Contentieux TC Lyon n° 2026-42"}, headers=admin)
    assert placed.status_code == 200
    assert placed.get_json()["legal_hold"] is True
    assert placed.get_json()["legal_hold_reason"] == "Contentieux TC Lyon n° 2026-42"

    lifted = client.delete(url, headers=admin)
    assert lifted.status_code == 200 and lifted.get_json()["legal_hold"] is False
    with transaction(app.extensions["paraphe"].session_factory) as session:
        actions = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.subject_type == "document")
            .where(AuditEvent.subject_id == str(document_id))
            .order_by(AuditEvent.id)
        ).all()
    assert actions == [
        "document.deposited",
        "document.legal_hold_set",
        "document.legal_hold_lifted",
    ]
