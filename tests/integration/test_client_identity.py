"""Who a client is: a French postal code is five digits, a client in another EU member state
is accepted with its VAT number checked for that state (and no SIREN), and a second client with
the same SIREN is created only once the user has seen the first one and confirmed."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.clients.models import Client
from app.clients.rules import EU_COUNTRIES
from tests.conftest import csrf_from
from tests.factories import VALID_CLIENT, count, login_as, make_client, session_of
from tests.integration.fixtures_security import check_each, field_errors

BERLIN = {
    **VALID_CLIENT,
    "legal_name": "Bäckerei Müller GmbH",
    "country": "DE",
    "siren": "",
    "vat_number": "de 136 695 976",
    "address": "Unter den Linden 1",
    "postal_code": "10117",
    "city": "Berlin",
}


@pytest.fixture
def sales(app: Flask) -> FlaskClient:
    return login_as(app, Role.SALES)


def post_client(browser: FlaskClient, data: dict[str, str], **changes: Any) -> tuple[int, str]:
    token = csrf_from(browser.get("/clients/nouveau").get_data(as_text=True))
    response = browser.post("/clients/nouveau", data={"csrf_token": token, **data, **changes})
    return response.status_code, response.get_data(as_text=True)


def stored(app: Flask, legal_name: str) -> Client:
    with session_of(app) as session:
        client = session.scalar(select(Client).where(Client.legal_name == legal_name))
        assert client is not None
        session.expunge(client)
        return client


def test_a_french_postal_code_is_five_digits(app: Flask, sales: FlaskClient) -> None:
    def refused(postal_code: str) -> None:
        status, html = post_client(sales, VALID_CLIENT, postal_code=postal_code)
        assert status == 422, status
        assert field_errors(html) == {
            "postal_code": ["Code postal français : 5 chiffres (ex. 69002)."]
        }

    check_each(["6900", "690021", "69OO2", "1234 AB", "F-69002", "٦٩٠٠٢"], refused)
    assert count(app, Client) == 0
    status, _html = post_client(sales, VALID_CLIENT, postal_code=" 69 002 ")
    assert status == 302
    assert stored(app, VALID_CLIENT["legal_name"]).postal_code == "69002"


@pytest.mark.parametrize(
    ("changes", "postal_code", "vat_number"),
    [
        ({}, "10117", "DE136695976"),
        (
            {"country": "NL", "vat_number": "NL004495445B01", "postal_code": "1012 ab"},
            "1012 AB",
            "NL004495445B01",  # 14 characters, the longest EU format
        ),
        ({"country": "GR", "vat_number": "EL094259216", "postal_code": "151 24"}, "151 24", None),
        (
            {"country": "PT", "vat_number": "PT501964843", "postal_code": "1250-096"},
            "1250-096",
            None,
        ),
        ({"country": "BE", "vat_number": "BE0403019261", "postal_code": "1000"}, "1000", None),
    ],
    ids=["DE", "NL", "GR", "PT", "BE"],
)
def test_a_business_client_in_another_member_state_is_accepted(
    app: Flask,
    sales: FlaskClient,
    changes: dict[str, str],
    postal_code: str,
    vat_number: str | None,
) -> None:
    status, html = post_client(sales, {**BERLIN, **changes})
    assert status == 302, field_errors(html)
    client = stored(app, BERLIN["legal_name"])
    assert client.country == changes.get("country", "DE")
    page = unescape(sales.get(f"/clients/{client.id}").get_data(as_text=True))
    meta = re.search(r'<p class="meta">(.*?)</p>', page)
    assert meta and "SIREN" not in meta[1] and f"TVA {client.vat_number}" in meta[1], meta
    assert meta[1].endswith(EU_COUNTRIES[client.country]), meta
    assert client.siren == ""  # none: not a French company
    assert client.postal_code == postal_code
    assert client.vat_number == (vat_number or changes["vat_number"])


EU_REFUSALS = [
    ({"vat_number": ""}, "vat_number", "Obligatoire pour un client d'un autre État de l'UE"),
    ({"vat_number": "DE136695977"}, "vat_number", "La clé du numéro de TVA est incorrecte."),
    ({"vat_number": "DE13669597"}, "vat_number", "Numéro de TVA DE mal formé"),
    ({"vat_number": "FR96552100554"}, "vat_number", "commence par DE"),
    ({"country": "GR", "vat_number": "GR094259216", "postal_code": "15124"}, "vat_number", "EL"),
    ({"postal_code": "1011"}, "postal_code", "Code postal invalide pour ce pays (ex. "),
    ({"country": "NL", "vat_number": "NL004495445B01"}, "postal_code", "1234 AB"),
    ({"country": "US"}, "country", "Pays non pris en charge"),
    ({"country": ""}, "country", "Pays non pris en charge"),
    ({"siren": "552100555"}, "siren", "SIREN invalide"),
]


def test_a_client_abroad_is_checked_for_its_own_country(app: Flask, sales: FlaskClient) -> None:
    def refused(changes: dict[str, str], field: str, message: str) -> None:
        status, html = post_client(sales, {**BERLIN, **changes})
        assert status == 422, status
        shown = field_errors(html)
        assert set(shown) == {field}, shown
        assert message in shown[field][0], shown

    check_each(EU_REFUSALS, refused)
    assert count(app, Client) == 0


def test_a_french_client_still_needs_its_siren(app: Flask, sales: FlaskClient) -> None:
    status, html = post_client(sales, {**VALID_CLIENT, "siren": ""})
    assert status == 422
    assert field_errors(html) == {"siren": ["Ce champ est obligatoire."]}


def test_a_second_client_with_the_same_siren_needs_a_confirmation(
    app: Flask, sales: FlaskClient
) -> None:
    first = make_client(app)
    other_entity = {**VALID_CLIENT, "legal_name": "Lefèvre Distribution", "vat_number": ""}
    status, html = post_client(sales, other_entity, siren="552 100 554")
    assert status == 409
    warning = re.search(r'<div class="flash error" id="duplicates".*?</div>', html, re.S)
    assert warning, html
    assert f'href="/clients/{first}"' in warning[0]
    assert VALID_CLIENT["legal_name"] in unescape(warning[0])
    assert 'name="confirm_duplicate"' in warning[0]
    assert count(app, Client) == 1
    # the checkbox is not offered before there is something to confirm
    assert 'name="confirm_duplicate"' not in sales.get("/clients/nouveau").get_data(as_text=True)

    status, _html = post_client(sales, other_entity, confirm_duplicate="y")
    assert status == 302
    assert count(app, Client) == 2
    created = stored(app, "Lefèvre Distribution")
    with session_of(app) as session:
        event = session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "client.created", AuditEvent.client_id == created.id
            )
        )
        assert event is not None
        assert json.loads(event.details) == {"same_company_as": [first]}


def test_a_client_abroad_is_a_duplicate_by_its_vat_number(app: Flask, sales: FlaskClient) -> None:
    assert post_client(sales, BERLIN)[0] == 302
    status, html = post_client(sales, {**BERLIN, "legal_name": "Müller Vertrieb GmbH"})
    assert status == 409
    assert "Un client a déjà ce numéro de TVA" in unescape(html)
    assert count(app, Client) == 1


def test_one_submission_shows_the_form_errors_and_the_domain_errors_together(
    app: Flask, sales: FlaskClient
) -> None:
    """A bidi override caught by the form used to hide the postal code and the unprintable
    character until the next submission: every field's problem is shown at once."""
    status, html = post_client(
        sales,
        VALID_CLIENT,
        legal_name="Evil\u202egnp.exe",
        postal_code="6900",
        signer_name="Zoë 🥐",
        siren="552100553",
    )
    assert status == 422
    errors = field_errors(html)
    assert set(errors) >= {"legal_name", "postal_code", "signer_name", "siren"}, errors
    assert "U+202E" in errors["legal_name"][0]
    assert errors["postal_code"] == ["Code postal français : 5 chiffres (ex. 69002)."]
    assert "U+1F950" in errors["signer_name"][0]
    assert errors["siren"][0].startswith("SIREN invalide")
    assert count(app, Client) == 0
