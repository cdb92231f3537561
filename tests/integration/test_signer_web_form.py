"""The quote page's generation form names the client's signer printed on the version (issue 15
follow-up): prefilled from the client record, checked by the API's rules with every field's
problem at once, shown back as typed (escaped), stored on the version and printed on its PDF."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from pypdf import PdfReader
from sqlalchemy import select

from app.auth.models import Role
from app.contracts.models import ContractGeneration, ContractVersion
from app.db import transaction
from tests.conftest import csrf_from
from tests.factories import (
    count,
    crm_writer,
    login_as,
    quote_ready_for_contract,
    runtime,
)
from tests.factories.sales import VALID_CLIENT
from tests.integration.fixtures_security import field_errors
from tests.integration.helpers import problem_fields

HOSTILE = '<script>alert(1)</script> {{ 7*7 }} Zoé & "Fils"'


def _quote_page(app: Flask) -> tuple[FlaskClient, int, str]:
    quote_id = quote_ready_for_contract(app)
    sales = login_as(app, Role.SALES)
    page = sales.get(f"/devis/{quote_id}")
    assert page.status_code == 200
    return sales, quote_id, page.get_data(as_text=True)


def test_the_form_is_prefilled_with_the_client_record(app: Flask) -> None:
    _sales, _quote_id, html = _quote_page(app)
    assert f'value="{escape(VALID_CLIENT["signer_name"])}"' in html
    assert f'value="{VALID_CLIENT["signer_email"]}"' in html
    assert "Signataire du client imprimé sur le contrat" in html


def test_every_problem_is_shown_at_once_with_what_was_typed_and_nothing_stored(
    app: Flask,
) -> None:
    sales, quote_id, html = _quote_page(app)
    typed = {
        "csrf_token": csrf_from(html),
        "signer_name": f"{HOSTILE}\x07",
        "signer_email": "jeanne@",
        "free_text": "Remise \x01 <b>exceptionnelle</b>",
    }
    refused = sales.post(f"/contrats/generer/{quote_id}", data=typed)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    errors = field_errors(page)
    assert set(errors) == {"signer_name", "signer_email", "free_text"}, errors
    assert "Caractère de contrôle interdit (U+0007)" in errors["signer_name"][0]
    assert errors["signer_email"] == ["Adresse e-mail invalide (ex. prenom.nom@entreprise.fr)."]
    assert "U+0001" in errors["free_text"][0]
    assert "corrigez les 3 champs signalés" in page
    # shown back as typed, inert
    assert "<script>alert(1)</script>" not in page and "<b>exceptionnelle</b>" not in page
    assert str(escape(typed["signer_name"])) in page
    assert str(escape(typed["free_text"])) in page
    assert count(app, ContractGeneration) == 0 and count(app, ContractVersion) == 0

    # empty and too long: the API's words
    for name, email, expected in (
        ("", VALID_CLIENT["signer_email"], {"signer_name": "Ce champ est obligatoire."}),
        ("J" * 201, "", {"signer_name": "200 caractères au maximum.", "signer_email": None}),
    ):
        answer = sales.post(
            f"/contrats/generer/{quote_id}",
            data={"csrf_token": typed["csrf_token"], "signer_name": name, "signer_email": email},
        )
        assert answer.status_code == 422
        shown = field_errors(answer.get_data(as_text=True))
        assert set(shown) == set(expected), shown
        for field, message in expected.items():
            assert message is None or shown[field] == [message], shown


def test_the_web_and_the_api_refuse_the_same_signer_with_the_same_words(app: Flask) -> None:
    sales, quote_id, html = _quote_page(app)
    api = app.test_client()
    writer = crm_writer(app)
    for name, email in (("Jeanne\x1b", "é@example.fr"), (" ", "j@example..fr"), ("J\u202e", "")):
        web = sales.post(
            f"/contrats/generer/{quote_id}",
            data={"csrf_token": csrf_from(html), "signer_name": name, "signer_email": email},
        )
        assert web.status_code == 422
        shown = {
            f"signer.{field.removeprefix('signer_')}": messages[0]
            for field, messages in field_errors(web.get_data(as_text=True)).items()
        }
        answer = api.post(
            f"/api/v1/quotes/{quote_id}/contract",
            json={"signer": {"name": name, "email": email}},
            headers=writer,
        )
        assert answer.status_code == 422
        assert shown == problem_fields(answer.get_json()), (name, email)


def test_the_corrected_form_stores_and_prints_the_signer_as_typed(app: Flask) -> None:
    sales, quote_id, html = _quote_page(app)
    token = csrf_from(html)
    first = sales.post(
        f"/contrats/generer/{quote_id}",
        data={"csrf_token": token, "signer_name": HOSTILE, "signer_email": "pas-une-adresse"},
    )
    assert first.status_code == 422
    generated = sales.post(
        f"/contrats/generer/{quote_id}",
        data={
            "csrf_token": token,
            "signer_name": f"  {HOSTILE} ",
            "signer_email": "Jeanne.Roux@Example.FR",
        },
    )
    assert generated.status_code == 302, generated.get_data(as_text=True)[:500]
    with transaction(runtime(app).session_factory) as session:
        asked = session.scalars(select(ContractGeneration)).one()
        assert (asked.signer_name, asked.signer_email) == (HOSTILE, "Jeanne.Roux@example.fr")
        version = session.scalars(select(ContractVersion)).one()
        assert (version.signer_name, version.signer_email) == (HOSTILE, "Jeanne.Roux@example.fr")
        sha256 = version.document.sha256
    data = runtime(app).store.get(sha256)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "<script>alert(1)</script> {{ 7*7 }}" in text  # printed literally, not evaluated
    assert "Jeanne.Roux@example.fr" in text


def test_a_forged_clause_is_named_with_the_other_problems(app: Flask) -> None:
    sales, quote_id, html = _quote_page(app)
    refused = sales.post(
        f"/contrats/generer/{quote_id}",
        data={
            "csrf_token": csrf_from(html),
            "clause": "abc",
            "signer_name": "Jeanne Roux",
            "signer_email": "",
        },
    )
    assert refused.status_code == 422
    errors = field_errors(refused.get_data(as_text=True))
    assert errors == {"clause": ["Clause inconnue."], "signer_email": ["Ce champ est obligatoire."]}
    assert count(app, ContractGeneration) == 0
