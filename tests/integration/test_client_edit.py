"""Sales correct a client record on its « Modifier » page: prefilled from the record, every
field error at once with what was typed kept, the duplicate-SIREN confirmation of creation, a
terminated client refused, nothing journaled when nothing changed, and an edit based on an
older revision refused (409) rather than silently undoing the change made meanwhile."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from dataclasses import dataclass
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.clients.services import ClientInput, get_client, input_of, update_client
from app.contracts.models import ContractVersion
from app.db import transaction, utcnow
from app.documents.models import Document
from tests.conftest import csrf_from
from tests.factories import login_as, make_client, make_contracted_client, runtime, session_of
from tests.factories.sales import VALID_CLIENT, publish_short_cgv
from tests.factories.webhooks import terminate_client
from tests.integration.fixtures_security import field_errors, logged_in_csrf

OTHER_SIREN = "732829320"  # valid, another company than VALID_CLIENT's


@pytest.fixture
def sales(app: Flask) -> FlaskClient:
    return login_as(app, Role.SALES)


def edit_url(client_id: int) -> str:
    return f"/clients/{client_id}/modifier"


def form_values(html: str) -> dict[str, str]:
    """The `value` of each named input of the page (the form as it is shown)."""
    found = re.findall(r'<input[^>]*\bname="([^"]+)"[^>]*\bvalue="([^"]*)"', html)
    return {name: unescape(value) for name, value in found}


def submit(browser: FlaskClient, client_id: int, **changes: str) -> Any:
    """The edit form as shown now, with `changes` typed in, submitted."""
    page = browser.get(edit_url(client_id))
    assert page.status_code == 200, page.status_code
    shown = form_values(page.get_data(as_text=True))
    return browser.post(edit_url(client_id), data={**shown, **changes})


def journal(app: Flask, client_id: int, action: str = "client.updated") -> list[AuditEvent]:
    with session_of(app) as session:
        found = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.client_id == client_id, AuditEvent.action == action)
            .order_by(AuditEvent.id)
        ).all()
        for event in found:
            session.expunge(event)
        return list(found)


@dataclass(frozen=True)
class Stored:
    data: ClientInput
    revision: int


def stored(app: Flask, client_id: int) -> Stored:
    """The record as the service reads it (what a form starts from), and its revision."""
    with session_of(app) as session:
        client = get_client(session, client_id)
        return Stored(input_of(client), client.revision)


def test_sales_correct_a_client_from_its_page(app: Flask, sales: FlaskClient) -> None:
    client_id = make_client(app, signer_title="Gérante")
    shown = sales.get(f"/clients/{client_id}").get_data(as_text=True)
    assert f'href="{edit_url(client_id)}"' in shown and ">Modifier<" in shown

    values = form_values(sales.get(edit_url(client_id)).get_data(as_text=True))
    assert values["legal_name"] == VALID_CLIENT["legal_name"]
    assert values["signer_title"] == "Gérante" and values["revision"] == "1"

    saved = submit(sales, client_id, city="Villeurbanne", signer_title="Présidente")
    assert saved.status_code == 302 and saved.headers["Location"] == f"/clients/{client_id}"
    page = sales.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Fiche client mise à jour." in page and "Présidente" in page
    client = stored(app, client_id)
    assert (client.data.city, client.data.signer_title, client.revision) == (
        "Villeurbanne",
        "Présidente",
        2,
    )
    [event] = journal(app, client_id)
    assert json.loads(event.details) == {"fields": ["city", "signer_title"]}
    assert event.actor.startswith("user:")

    # Submitted as shown: nothing changed, said so; no journal entry, the revision stays.
    again = submit(sales, client_id)
    assert again.status_code == 302
    said = sales.get(again.headers["Location"]).get_data(as_text=True)
    assert "Aucune modification" in said and "Fiche client mise à jour." not in said
    assert len(journal(app, client_id)) == 1
    assert stored(app, client_id).revision == 2


def test_every_field_error_at_once_with_what_was_typed_kept(app: Flask, sales: FlaskClient) -> None:
    client_id = make_client(app)
    refused = submit(
        sales,
        client_id,
        legal_name="",
        siren="123 456",
        signer_email="zoé@exemple",
        signer_title="P" * 121,
        city="Vénissieux",
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    errors = field_errors(html)
    assert set(errors) == {"legal_name", "siren", "signer_email", "signer_title"}, errors
    assert errors["legal_name"] == ["Ce champ est obligatoire."]
    assert "120 caractères au maximum." in errors["signer_title"]
    typed = form_values(html)
    assert (typed["siren"], typed["city"], typed["signer_email"]) == (
        "123 456",
        "Vénissieux",
        "zoé@exemple",
    )
    client = stored(app, client_id)
    assert (client.data.city, client.revision) == (VALID_CLIENT["city"], 1)
    assert journal(app, client_id) == []


@pytest.mark.parametrize("role", [Role.LEGAL, Role.ARCHIVIST])
def test_a_role_that_may_not_write_clients_gets_403(app: Flask, role: Role) -> None:
    client_id = make_client(app)
    reader = login_as(app, role)
    token = logged_in_csrf(reader)
    shown = reader.get(f"/clients/{client_id}").get_data(as_text=True)
    assert "Boulangerie" in shown and f'href="{edit_url(client_id)}"' not in shown
    assert reader.get(edit_url(client_id)).status_code == 403
    posted = reader.post(
        edit_url(client_id), data={**VALID_CLIENT, "city": "Bron", "csrf_token": token}
    )
    assert posted.status_code == 403
    assert stored(app, client_id).data.city == VALID_CLIENT["city"]


def test_a_terminated_client_cannot_be_edited(app: Flask, sales: FlaskClient) -> None:
    client_id = make_client(app)
    token = csrf_from(sales.get(edit_url(client_id)).get_data(as_text=True))
    terminate_client(app, client_id)

    shown = sales.get(f"/clients/{client_id}").get_data(as_text=True)
    assert edit_url(client_id) not in shown
    page = sales.get(edit_url(client_id))
    assert page.status_code == 409
    assert "est résilié : ses données ne changent plus." in page.get_data(as_text=True)
    posted = sales.post(
        edit_url(client_id),
        data={
            **VALID_CLIENT,
            "country": "FR",
            "city": "Bron",
            "revision": "2",
            "csrf_token": token,
        },
    )
    assert posted.status_code == 409
    assert "est résilié" in posted.get_data(as_text=True)
    assert stored(app, client_id).data.city == VALID_CLIENT["city"]
    assert journal(app, client_id) == []


def test_taking_another_clients_siren_needs_the_confirmation(
    app: Flask, sales: FlaskClient
) -> None:
    first = make_client(app)
    second = make_client(app, legal_name="Autre SAS", siren=OTHER_SIREN, vat_number="")

    warned = submit(sales, second, siren=VALID_CLIENT["siren"])
    html = warned.get_data(as_text=True)
    assert warned.status_code == 409
    assert 'id="duplicates"' in html and f"/clients/{first}" in html
    assert 'name="confirm_duplicate"' in html
    assert form_values(html)["siren"] == VALID_CLIENT["siren"]  # what was typed, kept
    assert stored(app, second).data.siren == OTHER_SIREN

    confirmed = sales.post(edit_url(second), data={**form_values(html), "confirm_duplicate": "y"})
    assert confirmed.status_code == 302
    assert stored(app, second).data.siren == VALID_CLIENT["siren"]
    [event] = journal(app, second)
    assert json.loads(event.details) == {"fields": ["siren"]}


def test_an_edit_from_an_older_revision_is_refused_and_writes_nothing(
    app: Flask, sales: FlaskClient
) -> None:
    client_id = make_client(app)
    opened = form_values(sales.get(edit_url(client_id)).get_data(as_text=True))
    assert opened["revision"] == "1"
    # meanwhile, a colleague corrects the city
    with transaction(runtime(app).session_factory) as session:
        record = get_client(session, client_id, for_update=True)
        update_client(
            session,
            record,
            dataclasses.replace(input_of(record), city="Bron"),
            actor="user:colleague",
            now=utcnow(),
            revisions={1},
        )

    late = sales.post(edit_url(client_id), data={**opened, "signer_name": "Paul Durand"})
    html = late.get_data(as_text=True)
    assert late.status_code == 409
    assert "modifiée entre-temps par quelqu'un d'autre" in unescape(html)
    # nothing typed is lost: each value that differs from the record now is shown beside it
    differing = re.search(r'<section id="differing".*?</section>', html, re.S)
    assert differing is not None
    listed = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", differing.group(0))))
    assert (
        "Nom du signataire : vous aviez saisi « Paul Durand », la fiche indique maintenant « "
        + VALID_CLIENT["signer_name"]
        + " »"
        in listed
    )
    assert "Ville : vous aviez saisi « Lyon », la fiche indique maintenant « Bron »" in listed
    assert "Raison sociale" not in listed  # the same on both sides
    shown = form_values(html)
    assert (shown["city"], shown["signer_name"], shown["revision"]) == (
        "Bron",
        VALID_CLIENT["signer_name"],
        "2",
    )
    client = stored(app, client_id)
    assert (client.data.city, client.data.signer_name, client.revision) == (
        "Bron",
        VALID_CLIENT["signer_name"],
        2,
    )
    assert [e.actor for e in journal(app, client_id)] == ["user:colleague"]

    # resubmitted from the form now shown, the correction lands
    resubmitted = sales.post(edit_url(client_id), data={**shown, "signer_name": "Paul Durand"})
    assert resubmitted.status_code == 302
    assert stored(app, client_id).data.signer_name == "Paul Durand"


def test_a_generated_contract_keeps_the_signer_it_printed(app: Flask, sales: FlaskClient) -> None:
    publish_short_cgv(app)
    contracted = make_contracted_client(app, signer_title="Gérante")

    saved = submit(
        sales,
        contracted.client_id,
        signer_name="Paul Durand",
        signer_email="paul.durand@example.fr",
        signer_title="Président",
    )
    assert saved.status_code == 302

    with session_of(app) as session:
        version = session.scalars(
            select(ContractVersion).where(ContractVersion.contract_id == contracted.contract_id)
        ).one()
        printed = (version.signer_name, version.signer_email, version.signer_title)
        document = session.get(Document, version.document_id)
        assert document is not None
        pdf = runtime(app).store.get(document.sha256)
    assert printed == (VALID_CLIENT["signer_name"], VALID_CLIENT["signer_email"], "Gérante")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert VALID_CLIENT["signer_name"] in text and "Paul Durand" not in text


def test_the_page_title_elides_de_before_a_vowel(app: Flask, sales: FlaskClient) -> None:
    """« Modifier la fiche d'Atelier Brun », never « de Atelier Brun »."""
    client_id = make_client(app, legal_name="Atelier Brun")
    html = unescape(sales.get(edit_url(client_id)).get_data(as_text=True))
    assert "<h1>Modifier la fiche d'Atelier Brun</h1>" in html


def test_the_client_pages_print_the_siren_grouped_on_one_line(
    app: Flask, sales: FlaskClient
) -> None:
    """« SIREN 552 100 554 », its groups held by no-break spaces, as on the invoices."""
    client_id = make_client(app)
    page = unescape(sales.get(f"/clients/{client_id}").get_data(as_text=True))
    assert "SIREN\u00a0552\u00a0100\u00a0554 ·" in page
    listing = unescape(sales.get("/clients/").get_data(as_text=True))
    assert "<td>552\u00a0100\u00a0554</td>" in listing
