"""The capacity (« qualité ») of each person who signs: what shows the company is bound by
someone empowered to bind it. Typed on the client record (form and API), kept by each
version as it printed it, and printed after the name in both party blocks of the contract,
its DOCX and the evidence file."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Callable
from dataclasses import replace
from html import unescape
from typing import Any

import pytest
from docx import Document as DocxDocument
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from app.archive.anonymisation import anonymise_client
from app.auth.models import Role
from app.clients.models import Client
from app.config import Settings
from app.contracts.models import ContractVersion
from app.contracts.printing import document_of
from app.db import utcnow
from app.demo import seed
from app.rendering.contract_document import Signer
from app.signatures.models import SignatureRequest
from app.vendor_settings import vendor_identity
from tests.factories import (
    VALID_CLIENT,
    crm_writer,
    login_as,
    make_client,
    make_quote,
    publish_short_cgv,
    runtime,
    session_of,
    sign_through_services,
)
from tests.factories.signing import send_contract
from tests.integration.fixtures_security import field_errors
from tests.integration.helpers import post_form, problem_fields

TITLE = "Présidente"
VENDOR = "Camille Roux"
VENDOR_TITLE = "Directrice commerciale"


@pytest.fixture
def app(settings: Settings, make_app: Callable[[Settings], Flask]) -> Flask:
    """A vendor whose representative has a capacity (PARAPHE_VENDOR_REPRESENTATIVE_TITLE)."""
    vendor = replace(settings.vendor, representative=VENDOR, representative_title=VENDOR_TITLE)
    return make_app(replace(settings, vendor=vendor))


@pytest.fixture
def writer(app: Flask) -> dict[str, str]:
    return crm_writer(app)


def flat(text: str) -> str:
    """The text as read, whatever the line breaks of the page."""
    return " ".join(text.split())


def pdf_text(app: Flask, sha256: str) -> str:
    data = runtime(app).store.get(sha256)
    return flat(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def stored_client(app: Flask, client_id: int) -> Client:
    with session_of(app) as session:
        client = session.get_one(Client, client_id)
        session.expunge(client)
        return client


def refused(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return problem_fields(response.get_json())


def docx_text(sales: FlaskClient, contract_id: int, number: int = 1) -> list[str]:
    """The paragraphs of the version's DOCX export, as sales download it."""
    docx = sales.get(f"/contrats/{contract_id}/v{number}.docx")
    assert docx.status_code == 200
    return [p.text for p in DocxDocument(io.BytesIO(docx.data)).paragraphs]


def titled_version(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    """A client whose signer is « Présidente », and version 1 of its contract: (client id,
    version)."""
    publish_short_cgv(app)
    client_id = make_client(app, signer_title=TITLE)
    return client_id, generate(app, client, writer, client_id)


def generate(
    app: Flask, client: FlaskClient, writer: dict[str, str], client_id: int, body: Any = None
) -> dict[str, Any]:
    """Version 1 of a new quote of the client, through the API (rendered inline)."""
    quote_id = make_quote(app, client_id)
    generated = client.post(f"/api/v1/quotes/{quote_id}/contract", json=body, headers=writer)
    assert generated.status_code == 202, generated.get_json()
    version: dict[str, Any] = generated.get_json()["version"]
    return version


# --- the client record ----------------------------------------------------------------------


def test_the_form_records_the_capacity_and_the_client_page_shows_it(app: Flask) -> None:
    sales = login_as(app, Role.SALES)
    created = post_form(
        sales, "/clients/nouveau", {**VALID_CLIENT, "signer_title": "  Directeur général  "}
    )
    assert created.status_code == 302, created.get_data(as_text=True)
    client_id = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert stored_client(app, client_id).signer_title == "Directeur général"  # trimmed
    page = unescape(sales.get(f"/clients/{client_id}").get_data(as_text=True))
    assert "Signataire : Zoë Martin, Directeur général <zoe@example.fr>" in page

    # optional: left empty, none stored and none printed
    other = post_form(sales, "/clients/nouveau", {**VALID_CLIENT, "confirm_duplicate": "y"})
    assert other.status_code == 302, other.get_data(as_text=True)
    other_id = int(other.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert stored_client(app, other_id).signer_title is None
    assert "Signataire : Zoë Martin <" in unescape(
        sales.get(f"/clients/{other_id}").get_data(as_text=True)
    )


def test_a_wrong_capacity_is_named_with_the_other_fields_in_one_submission(app: Flask) -> None:
    sales = login_as(app, Role.SALES)
    too_long = post_form(
        sales,
        "/clients/nouveau",
        {**VALID_CLIENT, "legal_name": "", "postal_code": "6900", "signer_title": "P" * 121},
    )
    assert too_long.status_code == 422
    errors = field_errors(too_long.get_data(as_text=True))
    # the form's own check (legal_name) and the service's, all at once
    assert errors["signer_title"] == ["120 caractères au maximum."]
    assert errors["legal_name"] == ["Ce champ est obligatoire."]
    assert errors["postal_code"] == ["Code postal français : 5 chiffres (ex. 69002)."]
    # what was typed stays in the field, to correct it
    assert 'value="' + "P" * 121 + '"' in too_long.get_data(as_text=True)

    unprintable = post_form(sales, "/clients/nouveau", {**VALID_CLIENT, "signer_title": "PDG 🥐"})
    assert unprintable.status_code == 422
    assert "U+1F950" in field_errors(unprintable.get_data(as_text=True))["signer_title"][0]
    with session_of(app) as session:
        assert session.scalars(select(Client)).all() == []


def test_the_api_creates_updates_and_reads_the_capacity(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    created = client.post(
        "/api/v1/clients", json={**VALID_CLIENT, "signer_title": " Gérant "}, headers=writer
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["signer_title"] == "Gérant"
    url = created.headers["Location"]

    updated = client.patch(url, json={"signer_title": "Directrice générale"}, headers=writer)
    assert updated.status_code == 200, updated.get_json()
    read = client.get(url, headers=writer).get_json()
    assert read["signer_title"] == "Directrice générale"
    assert read["signer_name"] == VALID_CLIENT["signer_name"]  # the other members kept

    cleared = client.patch(url, json={"signer_title": ""}, headers=writer)
    assert cleared.status_code == 200, cleared.get_json()
    assert cleared.get_json()["signer_title"] is None

    for title, expected in (
        ("P" * 121, "120 caractères au maximum."),
        (42, "Chaîne de caractères attendue."),
    ):
        answer = client.patch(url, json={"signer_title": title}, headers=writer)
        assert refused(answer) == {"signer_title": expected}, title
    bell = client.post(
        "/api/v1/clients", json={**VALID_CLIENT, "signer_title": "PDG\x07"}, headers=writer
    )
    assert set(refused(bell)) == {"signer_title"}
    assert client.get(url, headers=writer).get_json()["signer_title"] is None


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"siren": ""}, "siren", "Le SIREN recherché est vide."),
        ({"vat_number": ""}, "vat_number", "Le numéro de TVA recherché est vide."),
        ({"siren": "123"}, "siren", "SIREN invalide"),
    ],
)
def test_an_empty_lookup_says_it_is_empty(
    app: Flask, client: FlaskClient, writer: dict[str, str], query: Any, field: str, message: str
) -> None:
    make_client(app)
    answer = client.get("/api/v1/clients", query_string=query, headers=writer)
    errors = refused(answer)
    assert list(errors) == [field]
    assert errors[field].startswith(message), errors


# --- the contract and what prints it --------------------------------------------------------


def test_the_contract_prints_both_parties_with_their_capacity(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    _client_id, version = titled_version(app, client, writer)
    assert version["signer"] == {
        "name": VALID_CLIENT["signer_name"],
        "email": VALID_CLIENT["signer_email"],
        "title": TITLE,
    }
    text = pdf_text(app, version["sha256"])
    assert f"Représentée par {VALID_CLIENT['signer_name']}, {TITLE}" in text
    assert f"Représentée par {VENDOR}, {VENDOR_TITLE}" in text

    paragraphs = docx_text(login_as(app, Role.SALES), version["contract_id"])
    assert any(
        p.endswith(f"représentée par {VALID_CLIENT['signer_name']}, {TITLE}") for p in paragraphs
    )
    assert any(p.endswith(f"représentée par {VENDOR}, {VENDOR_TITLE}") for p in paragraphs)


def test_without_a_capacity_nothing_follows_the_name(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    publish_short_cgv(app)
    version = generate(app, client, writer, make_client(app))
    assert version["signer"]["title"] is None
    text = pdf_text(app, version["sha256"])
    assert f"Représentée par {VALID_CLIENT['signer_name']} {VALID_CLIENT['signer_email']}" in text


def signature_page(app: Flask, sha256: str) -> str:
    """The text of the contract's last page: the signature boxes."""
    data = runtime(app).store.get(sha256)
    return flat(PdfReader(io.BytesIO(data)).pages[-1].extract_text())


COUNTERSIGNER = {"name": VENDOR, "email": "camille.roux@editeur.example"}


def test_the_signature_boxes_state_each_signer_capacity(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    publish_short_cgv(app)
    client_id = make_client(app, signer_title=TITLE)
    # the vendor's representative countersigns: the capacity of PARAPHE_VENDOR_REPRESENTATIVE
    version = generate(app, client, writer, client_id, {"countersigner": COUNTERSIGNER})
    boxes = signature_page(app, version["sha256"])
    assert f"Signataire 1 : {VALID_CLIENT['signer_name']} — {TITLE}" in boxes
    assert f"Signataire 2 : {VENDOR} — {VENDOR_TITLE}" in boxes

    paragraphs = docx_text(login_as(app, Role.SALES), version["contract_id"])
    assert f"{VALID_CLIENT['signer_name']} — {TITLE} (Pour " in "\n".join(paragraphs)
    assert f"{VENDOR} — {VENDOR_TITLE} (Pour " in "\n".join(paragraphs)


def test_a_signature_box_without_a_capacity_prints_nothing_after_the_name(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    publish_short_cgv(app)
    other = {"name": "Luc Blanc", "email": "luc@editeur.example"}  # not the representative
    version = generate(app, client, writer, make_client(app), {"countersigner": other})
    boxes = signature_page(app, version["sha256"])
    assert f"Signataire 1 : {VALID_CLIENT['signer_name']} Pour " in boxes
    # a countersigner who is not the representative does not borrow its capacity
    assert "Signataire 2 : Luc Blanc Pour " in boxes
    assert " — Pour" not in boxes and "Qualité" not in boxes and VENDOR_TITLE not in boxes

    paragraphs = "\n".join(docx_text(login_as(app, Role.SALES), version["contract_id"]))
    assert f"{VALID_CLIENT['signer_name']} (Pour " in paragraphs
    assert "Luc Blanc (Pour " in paragraphs


def test_the_vendor_block_names_the_person_who_countersigns(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    """A sales user countersigns: the vendor's block « Représentée par » names that person,
    in no borrowed capacity, as its signature box does; not the configured representative."""
    publish_short_cgv(app)
    other = {"name": "Luc Blanc", "email": "luc@editeur.example"}  # not the representative
    version = generate(app, client, writer, make_client(app), {"countersigner": other})
    with session_of(app) as session:
        row = session.scalars(
            select(ContractVersion).where(ContractVersion.contract_id == version["contract_id"])
        ).one()
        doc = document_of(row, runtime(app).settings.vendor)
    assert (doc.vendor.representative_name, doc.vendor.representative_title) == ("Luc Blanc", None)
    vendor_box = doc.signers[-1]
    assert isinstance(vendor_box, Signer)  # the document turns plain tuples into Signers
    assert (vendor_box.name, vendor_box.title) == ("Luc Blanc", None)

    text = pdf_text(app, version["sha256"])
    assert "Représentée par Luc Blanc" in text
    assert f"Représentée par {VENDOR}" not in text and VENDOR_TITLE not in text
    paragraphs = docx_text(login_as(app, Role.SALES), version["contract_id"])
    assert any(p.endswith("représentée par Luc Blanc") for p in paragraphs)
    assert not any(VENDOR in p for p in paragraphs)

    # the representative countersigns: named with its capacity, in the block and the box
    own = generate(app, client, writer, make_client(app), {"countersigner": COUNTERSIGNER})
    assert f"Représentée par {VENDOR}, {VENDOR_TITLE}" in pdf_text(app, own["sha256"])
    assert f"Signataire 2 : {VENDOR} — {VENDOR_TITLE}" in signature_page(app, own["sha256"])


def test_the_version_keeps_the_capacity_it_printed(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    client_id, version = titled_version(app, client, writer)
    corrected = client.patch(
        f"/api/v1/clients/{client_id}", json={"signer_title": "Directeur général"}, headers=writer
    )
    assert corrected.status_code == 200, corrected.get_json()

    with session_of(app) as session:
        row = session.scalars(select(ContractVersion)).one()
        assert row.signer_title == TITLE
    # the DOCX export is rebuilt from the stored version, not from the corrected record
    text = "\n".join(docx_text(login_as(app, Role.SALES), version["contract_id"]))
    assert f"{VALID_CLIENT['signer_name']}, {TITLE}" in text
    assert "Directeur général" not in text

    # the next version prints the record as it is now
    second = client.post(
        f"/api/v1/contracts/{version['contract_id']}/versions",
        json={"reason": "Nouveau dirigeant."},
        headers=writer,
    )
    assert second.status_code == 202, second.get_json()
    printed = second.get_json()["version"]
    assert printed["signer"]["title"] == "Directeur général"
    assert "Zoë Martin, Directeur général" in pdf_text(app, printed["sha256"])


def test_a_signer_named_in_the_body_has_the_capacity_given_with_it(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    publish_short_cgv(app)
    client_id = make_client(app, signer_title=TITLE)
    named = {"name": "Luc Blanc", "email": "luc@example.fr", "title": "Directeur commercial"}
    version = generate(app, client, writer, client_id, {"signer": named})
    assert version["signer"] == named
    assert "Représentée par Luc Blanc, Directeur commercial" in pdf_text(app, version["sha256"])
    # another person than the record's: not the record's capacity
    untitled = generate(
        app, client, writer, client_id, {"signer": {"name": "Ana", "email": "a@x.fr"}}
    )
    assert untitled["signer"]["title"] is None
    assert TITLE not in pdf_text(app, untitled["sha256"]).split("Proposition commerciale")[0]

    quote_id = make_quote(app, client_id)
    for title, message in (("P" * 121, "120 caractères au maximum."), ("A\x07", None)):
        answer = client.post(
            f"/api/v1/quotes/{quote_id}/contract",
            json={"signer": {"name": "Ana", "email": "a@x.fr", "title": title}},
            headers=writer,
        )
        errors = refused(answer)
        assert set(errors) == {"signer.title"}, errors
        assert message is None or errors["signer.title"] == message


def test_the_quote_page_prefills_the_capacity_and_prints_what_was_typed(app: Flask) -> None:
    publish_short_cgv(app)
    client_id = make_client(app, signer_title=TITLE)
    quote_id = make_quote(app, client_id)
    sales = login_as(app, Role.SALES)
    page = sales.get(f"/devis/{quote_id}").get_data(as_text=True)
    assert (
        f'name="signer_title" maxlength="120" autocomplete="organization-title" value="{TITLE}"'
        in page
    )

    refused_page = post_form(
        sales,
        f"/devis/{quote_id}",
        {"signer_name": "Zoë Martin", "signer_email": "zoe@example.fr", "signer_title": "X" * 121},
        f"/contrats/generer/{quote_id}",
    )
    assert refused_page.status_code == 422
    assert "120 caractères au maximum." in refused_page.get_data(as_text=True)

    typed = "Présidente, par intérim"
    done = post_form(
        sales,
        f"/devis/{quote_id}",
        {"signer_name": "Zoë Martin", "signer_email": "zoe@example.fr", "signer_title": typed},
        f"/contrats/generer/{quote_id}",
    )
    assert done.status_code in (302, 303), done.get_data(as_text=True)
    with session_of(app) as session:
        row = session.scalars(select(ContractVersion)).one()
        assert row.signer_title == typed
        sha256 = row.document.sha256
    assert f"Représentée par Zoë Martin, {typed}" in pdf_text(app, sha256)


def test_hostile_text_is_inert_on_the_page_and_printed_as_typed(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    publish_short_cgv(app)
    hostile = '<b onmouseover="x()">PDG</b> {{ 7*7 }}'
    client_id = make_client(app, signer_title=hostile)
    sales = login_as(app, Role.SALES)
    page = sales.get(f"/clients/{client_id}").get_data(as_text=True)
    assert "<b onmouseover" not in page
    assert "&lt;b onmouseover=" in page
    version = generate(app, client, writer, client_id)
    text = pdf_text(app, version["sha256"])
    assert f"Zoë Martin, {hostile}" in text
    assert f"Signataire 1 : Zoë Martin — {hostile}" in signature_page(app, version["sha256"])
    # the DOCX too: escaped into its XML (a raw « < » would break the file), read as typed
    docx = "\n".join(docx_text(sales, version["contract_id"]))
    assert f"représentée par Zoë Martin, {hostile}" in docx
    assert f"Zoë Martin — {hostile} (Pour " in docx


def test_the_signing_page_and_the_evidence_file_state_the_capacity(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    _client_id, version = titled_version(app, client, writer)
    link = send_contract(app, version["contract_id"])
    # the signing page says in what capacity the person signs
    page = unescape(app.test_client().get(link).get_data(as_text=True))
    assert f"Signataire : Zoë Martin, {TITLE} (zoe@example.fr)" in page
    sign_through_services(app, link)
    with session_of(app) as session:
        request_id = session.scalars(select(SignatureRequest)).one().id
    sales = login_as(app, Role.SALES)
    evidence = json.loads(sales.get(f"/demandes-signature/{request_id}/preuve.json").data)
    [signer] = [s for s in evidence["signers"] if s["party"] == "client"]
    assert signer["title"] == TITLE
    pdf = sales.get(f"/demandes-signature/{request_id}/preuve.pdf").data
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert f"Zoë Martin, {TITLE} <zoe@example.fr>" in flat(text)


def test_the_vendor_representative_capacity_is_read_from_the_environment() -> None:
    problems: list[str] = []
    env = {"PARAPHE_VENDOR_REPRESENTATIVE_TITLE": "  Directrice commerciale "}
    assert vendor_identity(env, problems).representative_title == "Directrice commerciale"
    assert vendor_identity({}, problems).representative_title is None  # none, not a guess
    assert problems == []
    for wrong in ("D" * 121, "Directrice\ncommerciale"):
        refused_at_start: list[str] = []
        identity = vendor_identity({"PARAPHE_VENDOR_REPRESENTATIVE_TITLE": wrong}, refused_at_start)
        assert identity.representative_title is None
        assert [p.split(" : ")[0] for p in refused_at_start] == [
            "PARAPHE_VENDOR_REPRESENTATIVE_TITLE"
        ]


def test_the_demo_client_signs_in_a_stated_capacity(app: Flask) -> None:
    seed(runtime(app).collaborators(utcnow()))
    with session_of(app) as session:
        [demo] = session.scalars(select(Client)).all()
        assert (demo.signer_name, demo.signer_title) == ("Élodie Martin-Ngô", "Associée gérante")


def test_the_anonymised_client_keeps_no_capacity(app: Flask) -> None:
    client_id = make_client(app, signer_title="Gérant")
    with session_of(app) as session:
        client = session.get_one(Client, client_id)
        anonymise_client(session, client, now=utcnow(), actor="test")
        session.flush()
        assert client.signer_title is None
        assert client.signer_name != VALID_CLIENT["signer_name"]
