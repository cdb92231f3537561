"""The capacity (« fonction ») of a vendor user who countersigns: set by the administrator on
the users page (at invitation, then per user), printed after the user's name in the vendor's
block and signature box of each contract they generate (PDF, DOCX), and kept by the version
as printed: a later change of the user's title never changes a generated version.

The client signer's capacity and the configured representative's are in
test_signer_capacity.py, whose helpers this file reads the documents with."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import replace
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import Role, User
from app.config import Settings
from app.contracts.models import ContractVersion
from app.contracts.printing import document_of
from app.db import utcnow
from app.demo import seed
from app.rendering.contract_document import Signer
from tests.conftest import csrf_from
from tests.factories import (
    VALID_CLIENT,
    count,
    login,
    login_as,
    make_client,
    make_fast_user,
    make_quote,
    publish_short_cgv,
    runtime,
    session_of,
)
from tests.factories.signing import send_version_1, sign_token
from tests.integration.fixtures_security import field_errors
from tests.integration.helpers import post_form
from tests.integration.test_signer_capacity import docx_text, pdf_text, signature_page

REPRESENTATIVE = "Camille Roux"
REPRESENTATIVE_TITLE = "Présidente"
SALES = "claire@editeur.example"
SALES_NAME = "Test Commercial"  # make_fast_user's name for the role
TITLE = "Directrice commerciale"
USERS = "/admin/utilisateurs"


@pytest.fixture
def app(settings: Settings, make_app: Callable[[Settings], Flask]) -> Flask:
    """A vendor whose representative has a capacity, and no configured signatory: the sales
    user who generates a contract countersigns it (and must not borrow that capacity)."""
    vendor = replace(
        settings.vendor,
        representative=REPRESENTATIVE,
        representative_title=REPRESENTATIVE_TITLE,
        signer_name=None,
        signer_email=None,
    )
    return make_app(replace(settings, vendor=vendor))


def admin_browser(app: Flask) -> FlaskClient:
    return login_as(app, Role.ADMIN)


def user_of(app: Flask, address: str) -> User:
    with session_of(app) as session:
        user = session.scalars(select(User).where(User.email == address)).one()
        session.expunge(user)
        return user


def set_title(admin: FlaskClient, user_id: int, title: str) -> tuple[int, str]:
    """The inline « Fonction » form of the user's row, sent as the administrator does."""
    answer = post_form(admin, USERS, {"title": title}, f"{USERS}/{user_id}/fonction")
    return answer.status_code, answer.get_data(as_text=True)


def title_changes(app: Flask) -> int:
    return count(app, AuditEvent, AuditEvent.action == "user.title_changed")


# --- the users page ---------------------------------------------------------------------------


def titled_sales_user(app: Flask) -> tuple[FlaskClient, User]:
    """A sales user the administrator gave the title TITLE (through the users page), and that
    administrator's browser."""
    admin = admin_browser(app)
    make_fast_user(app, Role.SALES, SALES)
    claire = user_of(app, SALES)
    assert set_title(admin, claire.id, TITLE)[0] == 302
    return admin, claire


def test_the_admin_sets_a_title_at_invitation_and_changes_it_in_the_table(app: Flask) -> None:
    admin = admin_browser(app)
    invited = post_form(
        admin,
        USERS,
        {"full_name": "Claire Commerciale", "email": SALES, "role": "sales", "title": f" {TITLE} "},
    )
    assert invited.status_code == 302, invited.get_data(as_text=True)
    claire = user_of(app, SALES)
    assert claire.title == TITLE  # trimmed
    page = unescape(admin.get(USERS).get_data(as_text=True))
    assert f'id="title-{claire.id}" maxlength="120" autocomplete="off" value="{TITLE}"' in page
    assert "<th>Fonction</th>" in page

    assert set_title(admin, claire.id, "Responsable grands comptes")[0] == 302
    assert user_of(app, SALES).title == "Responsable grands comptes"
    flashed = unescape(admin.get(USERS).get_data(as_text=True))
    assert "Claire Commerciale\u00a0: fonction «\u00a0Responsable grands comptes\u00a0»." in flashed
    assert title_changes(app) == 1

    # emptied: no capacity any more (None, not an empty string printed after a comma)
    assert set_title(admin, claire.id, "   ")[0] == 302
    assert user_of(app, SALES).title is None
    assert title_changes(app) == 2


def test_a_title_that_cannot_be_printed_is_a_field_error_and_nothing_is_written(
    app: Flask,
) -> None:
    admin, claire = titled_sales_user(app)
    before = title_changes(app)
    for typed, message in (
        ("D" * 121, "120 caractères au maximum."),
        ("Directrice\x07commerciale", "Caractère de contrôle interdit (U+0007)"),
        ("Directrice\ncommerciale", "Caractère de contrôle interdit (U+000A)"),
        ("Directrice \u202ecommerciale", "Caractère de contrôle du sens d'écriture interdit"),
        ("Directrice 🚀", "U+1F680"),
    ):
        status, html = set_title(admin, claire.id, typed)
        assert status == 422, (typed, status)
        errors = field_errors(html)
        assert list(errors) == [f"title-{claire.id}"], errors
        assert message in errors[f"title-{claire.id}"][0], errors
        assert user_of(app, SALES).title == TITLE
    assert title_changes(app) == before

    # a file in place of the value: a field error too, never a 500
    status = admin.post(
        f"{USERS}/{claire.id}/fonction",
        data={
            "csrf_token": csrf_from(admin.get(USERS).get_data(as_text=True)),
            "title": (io.BytesIO(b"PDG"), "titre.txt"),
        },
        content_type="multipart/form-data",
    ).status_code
    assert status == 422
    assert user_of(app, SALES).title == TITLE

    # an unknown user: said on the page, not a 500
    assert set_title(admin, 999_999, TITLE)[0] == 302
    assert "Utilisateur n° 999999 inconnu." in admin.get(USERS).get_data(as_text=True)


def test_the_invitation_shows_every_error_at_once_title_included(app: Flask) -> None:
    admin = admin_browser(app)
    users_before = count(app, User)
    answer = post_form(
        admin,
        USERS,
        {"full_name": "", "email": "pas-une-adresse", "role": "sales", "title": "T" * 121},
    )
    assert answer.status_code == 422
    errors = field_errors(answer.get_data(as_text=True))
    assert set(errors) == {"full_name", "email", "title"}, errors
    assert errors["title"] == ["120 caractères au maximum."]
    assert count(app, User) == users_before


def test_only_an_administrator_sets_a_title(app: Flask) -> None:
    make_fast_user(app, Role.LEGAL, "juriste@editeur.example")
    target = user_of(app, "juriste@editeur.example")
    sales = login_as(app, Role.SALES)
    token = csrf_from(sales.get("/clients/nouveau").get_data(as_text=True))
    answer = sales.post(f"{USERS}/{target.id}/fonction", data={"csrf_token": token, "title": "X"})
    assert answer.status_code == 403
    assert user_of(app, "juriste@editeur.example").title is None


# --- what a contract generated by the user prints ------------------------------------------


def generate_as(app: Flask, browser: FlaskClient) -> ContractVersion:
    """Version 1 of a new client's contract, generated from the quote page by `browser`'s
    user (who countersigns it): the stored version, detached (the CGV are published)."""
    quote_id = make_quote(app, make_client(app, signer_title="Gérant"))
    done = post_form(
        browser,
        f"/devis/{quote_id}",
        {
            "signer_name": VALID_CLIENT["signer_name"],
            "signer_email": VALID_CLIENT["signer_email"],
            "signer_title": "Gérant",
        },
        f"/contrats/generer/{quote_id}",
    )
    assert done.status_code in (302, 303), done.get_data(as_text=True)
    with session_of(app) as session:
        row = session.scalars(select(ContractVersion).order_by(ContractVersion.id.desc())).first()
        assert row is not None
        return row


def printed(app: Flask, contract_id: int) -> tuple[str | None, str | None]:
    """(vendor block's capacity, countersigner box's capacity) of the stored version, as the
    DOCX export rebuilds them."""
    with session_of(app) as session:
        row = session.scalars(
            select(ContractVersion).where(ContractVersion.contract_id == contract_id)
        ).one()
        doc = document_of(row, runtime(app).settings.vendor)
    box = doc.signers[-1]
    assert isinstance(box, Signer)  # the document turns plain tuples into Signers
    return doc.vendor.representative_title, box.title


def test_a_contract_generated_by_a_titled_user_prints_the_capacity_and_keeps_it(
    app: Flask,
) -> None:
    admin, claire = titled_sales_user(app)
    sales = app.test_client()
    login(sales, SALES)
    publish_short_cgv(app)

    version = generate_as(app, sales)
    assert (version.countersigner_name, version.countersigner_title) == (SALES_NAME, TITLE)
    assert printed(app, version.contract_id) == (TITLE, TITLE)
    sha256 = version.document.sha256
    text = pdf_text(app, sha256)
    assert f"Représentée par {SALES_NAME}, {TITLE}" in text
    assert REPRESENTATIVE_TITLE not in text.split("Proposition commerciale")[0]
    boxes = signature_page(app, sha256)
    assert f"Signataire 1 : {VALID_CLIENT['signer_name']} — Gérant" in boxes
    assert f"Signataire 2 : {SALES_NAME} — {TITLE}" in boxes
    docx = "\n".join(docx_text(sales, version.contract_id))
    assert f"représentée par {SALES_NAME}, {TITLE}" in docx
    assert f"{SALES_NAME} — {TITLE} (Pour " in docx

    # the countersigner's signing page says in what capacity they sign, as the client's does
    _request_id, tokens = send_version_1(app, version.contract_id, parallel=True)
    page = unescape(app.test_client().get(f"/signature/{tokens[SALES]}").get_data(as_text=True))
    assert f"Signataire : {SALES_NAME}, {TITLE} ({SALES})" in page
    client_page = app.test_client().get(f"/signature/{tokens[VALID_CLIENT['signer_email']]}")
    assert "Signataire : Zoë Martin, Gérant (" in unescape(client_page.get_data(as_text=True))

    # the user's title changes afterwards: the version prints and shows what it printed
    assert set_title(admin, claire.id, "Directrice générale")[0] == 302
    assert printed(app, version.contract_id) == (TITLE, TITLE)
    docx_after = "\n".join(docx_text(sales, version.contract_id))
    assert f"représentée par {SALES_NAME}, {TITLE}" in docx_after
    assert "Directrice générale" not in docx_after
    page = unescape(app.test_client().get(f"/signature/{tokens[SALES]}").get_data(as_text=True))
    assert f"Signataire : {SALES_NAME}, {TITLE} ({SALES})" in page

    # the next contract the user generates prints the title as it is now
    later = generate_as(app, sales)
    assert later.countersigner_title == "Directrice générale"
    assert f"Représentée par {SALES_NAME}, Directrice générale" in pdf_text(
        app, later.document.sha256
    )


def test_a_user_without_a_title_is_printed_with_no_capacity(app: Flask) -> None:
    make_fast_user(app, Role.SALES, SALES)
    sales = app.test_client()
    login(sales, SALES)
    publish_short_cgv(app)
    version = generate_as(app, sales)
    assert (version.countersigner_name, version.countersigner_title) == (SALES_NAME, None)
    assert printed(app, version.contract_id) == (None, None)
    text = pdf_text(app, version.document.sha256)
    assert f"Représentée par {SALES_NAME} " in text
    assert f"Représentée par {SALES_NAME}," not in text
    assert REPRESENTATIVE_TITLE not in text.split("Proposition commerciale")[0]
    boxes = signature_page(app, version.document.sha256)
    assert f"Signataire 2 : {SALES_NAME} Pour " in boxes
    docx = "\n".join(docx_text(sales, version.contract_id))
    assert f"{SALES_NAME} (Pour " in docx
    assert any(line.endswith(f"représentée par {SALES_NAME}") for line in docx.splitlines())

    _request_id, tokens = send_version_1(app, version.contract_id, parallel=True)
    page = unescape(app.test_client().get(f"/signature/{tokens[SALES]}").get_data(as_text=True))
    assert f"Signataire : {SALES_NAME} ({SALES})" in page


def test_the_evidence_file_states_each_signer_capacity(app: Flask) -> None:
    titled_sales_user(app)
    sales = app.test_client()
    login(sales, SALES)
    publish_short_cgv(app)
    version = generate_as(app, sales)
    request_id, tokens = send_version_1(app, version.contract_id, parallel=True)
    for token in tokens.values():
        sign_token(app, token)
    evidence = json.loads(sales.get(f"/demandes-signature/{request_id}/preuve.json").data)
    titles = {s["party"]: (s["name"], s["title"]) for s in evidence["signers"]}
    assert titles == {"client": ("Zoë Martin", "Gérant"), "vendor": (SALES_NAME, TITLE)}


def test_the_demo_users_have_a_title_and_reseeding_keeps_the_admins_change(app: Flask) -> None:
    seed(runtime(app).collaborators(utcnow()))
    claire = user_of(app, "commercial@demo.paraphe.fr")
    assert (claire.full_name, claire.title) == ("Claire Commerciale", "Responsable commerciale")
    users = count(app, User)
    assert set_title(admin_browser(app), claire.id, TITLE)[0] == 302
    seed(runtime(app).collaborators(utcnow()))  # idempotent: nothing added, nothing reset
    assert count(app, User) == users + 1  # the administrator this test logged in as
    assert user_of(app, "commercial@demo.paraphe.fr").title == TITLE
