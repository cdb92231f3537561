"""The clause library: legal writes versioned clauses with whitelisted placeholders, rendered
in the sandbox; sales pick clauses and free text for one contract."""

from __future__ import annotations

import io
import re
from html import unescape

from flask import Flask
from pypdf import PdfReader

from app.auth.models import Role
from app.clauses.models import Clause, ClauseVersion
from app.contracts.models import ContractClause
from tests.factories import count, login_as, make_client, make_quote, publish_short_cgv, session_of
from tests.integration.fixtures_security import field_errors, logged_in_csrf


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\u00a0", " "))


def test_legal_writes_versioned_clauses(app: Flask) -> None:
    legal = login_as(app, Role.LEGAL)
    token = logged_in_csrf(legal)
    body = "Le préavis est de {{ notice_months }} mois pour {{ client_name }}."
    response = legal.post(
        "/clauses/", data={"csrf_token": token, "title": "Préavis", "body_markdown": body}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    url = response.headers["Location"]
    assert "Préavis" in legal.get("/clauses/").get_data(as_text=True)

    # a change is a new version; the old one stays
    changed = body.replace("mois", "mois calendaires")
    data = {"csrf_token": token, "title": "Préavis", "body_markdown": changed}
    assert legal.post(url, data=data).status_code == 302
    # saving the same text again makes no version
    assert legal.post(url, data=data).status_code == 302
    with session_of(app) as session:
        versions = session.query(ClauseVersion).order_by(ClauseVersion.version).all()
        assert [(v.version, v.body_markdown) for v in versions] == [(1, body), (2, changed)]
    page = unescape(legal.get(url).get_data(as_text=True))
    assert "mois calendaires" in page and body in page


def test_bad_clauses_are_field_errors_and_nothing_is_saved(app: Flask) -> None:
    legal = login_as(app, Role.LEGAL)
    token = logged_in_csrf(legal)
    cases = [
        ("é" * 50_001, "Une clause ne dépasse pas 100 Ko."),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "éléments interdits"),
        ("{{ client_name.__class__ }}", "éléments interdits"),
        ("{{ cycler.__init__.__globals__ }}", "éléments interdits"),
        ("{{ cycler }}", "Champ inconnu"),
        ("{{ config }}", "Champ inconnu"),
        ("{{ montant_inconnu }}", "Champs disponibles : {{ client_name }}"),
        ("{% include 'contract.css' %}", "Champ inconnu ou syntaxe invalide"),
        ("{% for x in %}", "syntaxe invalide"),
        ("{{ 'x' * 100000 }}", "éléments interdits"),
        ("", "Ce champ est requis."),
    ]
    for body, message in cases:
        response = legal.post(
            "/clauses/", data={"csrf_token": token, "title": "Piège", "body_markdown": body}
        )
        assert response.status_code == 422, (body[:40], response.status_code)
        shown = field_errors(response.get_data(as_text=True))
        assert message in " ".join(shown.get("body_markdown", [])), (body[:40], shown)
    assert count(app, Clause) == 0 and count(app, ClauseVersion) == 0


def test_sales_pick_clauses_and_free_text_for_one_contract(app: Flask) -> None:
    publish_short_cgv(app)
    hostile = "**Gras** {{ 7*7 }} <img src=x>"
    client_id = make_client(app, legal_name=hostile)
    quote_id = make_quote(app, client_id)
    legal = login_as(app, Role.LEGAL)
    response = legal.post(
        "/clauses/",
        data={
            "csrf_token": logged_in_csrf(legal),
            "title": "Réversibilité",
            "body_markdown": "{{ client_name }} s'engage pour {{ commitment_months }} mois, "
            "soit {{ total_incl_vat }} TTC (devis {{ quote_number }}).",
        },
    )
    assert response.status_code == 302
    with session_of(app) as session:
        version_id = session.query(ClauseVersion).one().id

    sales = login_as(app, Role.SALES)
    page = sales.get(f"/devis/{quote_id}").get_data(as_text=True)
    assert f'name="clause" value="{version_id}"' in page
    response = sales.post(
        f"/contrats/generer/{quote_id}",
        data={
            "csrf_token": logged_in_csrf(sales),
            "clause": str(version_id),
            "free_text": "Remise **exceptionnelle** accordée.",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    contract_url = response.headers["Location"]
    with session_of(app) as session:
        rows = session.query(ContractClause).order_by(ContractClause.position).all()
        assert [(r.clause_version_id, r.title) for r in rows] == [
            (version_id, "Réversibilité"),
            (None, "Stipulations complémentaires"),
        ]
    pdf = sales.get(f"{contract_url}/v1.pdf")
    text = flat("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages))
    # the client name is printed as typed: no Markdown, no template, no HTML
    assert f"{hostile} s'engage pour 12 mois, soit 1 440,00 € TTC" in text, text[:3000]
    assert "Remise **exceptionnelle** accordée." in text  # free text: printed as typed
    assert "49" not in text.split("Réversibilité", 1)[1][:200]


def test_an_unknown_clause_version_or_oversized_free_text_is_refused(app: Flask) -> None:
    publish_short_cgv(app)
    quote_id = make_quote(app, make_client(app))
    sales = login_as(app, Role.SALES)
    token = logged_in_csrf(sales)
    response = sales.post(
        f"/contrats/generer/{quote_id}", data={"csrf_token": token, "clause": "999"}
    )
    assert response.status_code == 404
    for bad in ("²", "abc", "9" * 30):
        response = sales.post(
            f"/contrats/generer/{quote_id}", data={"csrf_token": token, "clause": bad}
        )
        assert response.status_code == 422, (bad, response.status_code)
    response = sales.post(
        f"/contrats/generer/{quote_id}", data={"csrf_token": token, "free_text": "é" * 50_001}
    )
    assert response.status_code == 422
    assert "Le texte libre dépasse 100 Ko." in unescape(response.get_data(as_text=True))
    assert count(app, ContractClause) == 0
