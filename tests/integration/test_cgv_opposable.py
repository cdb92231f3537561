"""The opposable version through the database and the API, on the shared history."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Role, Scope
from app.clock import PARIS
from app.db import transaction
from app.terms.acceptances import record_acceptance
from app.terms.models import AcceptanceMethod, CgvNotification
from app.terms.versions import publish_version, text_sha256
from tests.factories import login_as, make_client, make_token, runtime
from tests.factories.terms import accept_version
from tests.integration.helpers import problem_fields
from tests.unit.terms.history import CLIENTS, EXPECTED, VERSIONS

SIRENS = ["552100554", "732829320", "542107651", "443061841", "180089013", "356000000"]


def _noon(on: date) -> datetime:
    return datetime.combine(on, time(12), tzinfo=PARIS).astimezone(UTC)


def build_history(app: Flask) -> dict[str, int]:
    ids: dict[str, int] = {}
    for name, siren in zip(CLIENTS, SIRENS, strict=False):
        ids[name] = make_client(app, siren=siren, vat_number="", legal_name=f"Client {name}")
    with transaction(runtime(app).session_factory) as session:
        versions = {}
        for label, (kind, effective) in VERSIONS.items():
            versions[label] = publish_version(
                session,
                label=label,
                title="CGV",
                effective_date=effective,
                body_markdown=f"# CGV {label}\n\n## Article 1\n\nTexte {label}.\n",
                summary="",
                kind=kind,
                now=_noon(date(2023, 11, 1)),
                actor="test",
            )
        for name, data in CLIENTS.items():
            for label, on in data["accepted"]:  # type: ignore[attr-defined]
                v = versions[label]
                record_acceptance(
                    session,
                    client_id=ids[name],
                    version=v,
                    shown_sha256=text_sha256(v.body_markdown),
                    person_name="Zoë",
                    person_email="zoe@example.fr",
                    method=AcceptanceMethod.CLICK_THROUGH,
                    now=_noon(on),
                    ip="192.0.2.1",
                    user_agent="test",
                    actor="test",
                )
            for label, on in data["notified"].items():  # type: ignore[attr-defined]
                session.add(
                    CgvNotification(
                        client_id=ids[name],
                        cgv_version_id=versions[label].id,
                        email="zoe@example.fr",
                        created_at=_noon(on),
                        sent_at=_noon(on),
                    )
                )
    return ids


def test_api_answers_the_opposable_version_at_every_date(app: Flask, client: FlaskClient) -> None:
    ids = build_history(app)
    headers = {"Authorization": f"Bearer {make_token(app, Scope.READ)}"}
    for name, at, expected in EXPECTED:
        response = client.get(
            f"/api/v1/clients/{ids[name]}/cgv?at={at.isoformat()}", headers=headers
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        found = body["cgv_version"]["label"] if body["cgv_version"] else None
        assert found == expected, (name, at, body)
        assert body["at"] == at.isoformat()

    for bad in ("2025-02-30", "31/01/2025", "demain"):
        response = client.get(f"/api/v1/clients/{ids['A']}/cgv?at={bad}", headers=headers)
        assert response.status_code == 422
        assert response.mimetype == "application/problem+json"
        assert "at" in problem_fields(response.get_json())
    assert client.get("/api/v1/clients/999999/cgv", headers=headers).status_code == 404

    page = login_as(app, Role.SALES).get(f"/clients/{ids['B']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Version opposable" in html and "<strong>2.1</strong>" in html


def test_sales_are_warned_when_the_client_is_behind_the_contract_version(app: Flask) -> None:
    from app.terms.models import CgvVersion
    from tests.factories import make_contract, make_quote, publish_short_cgv

    publish_short_cgv(app)
    client_id = make_client(app)
    contract_id = make_contract(app, make_quote(app, client_id))
    sales = login_as(app, Role.SALES)
    html = sales.get(f"/contrats/{contract_id}").get_data(as_text=True)
    assert 'id="cgv-warning-v1"' in html and "n'a encore accepté aucune version des CGV." in html

    with transaction(runtime(app).session_factory) as session:
        version = session.query(CgvVersion).one()
        accept_version(session, client_id, version, now=datetime.now(UTC))
    html = sales.get(f"/contrats/{contract_id}").get_data(as_text=True)
    assert 'id="cgv-warning-v1"' not in html
