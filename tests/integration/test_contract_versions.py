"""Contract versions: each change is a new immutable version with reason and author; a signed
version never changes; an amendment is signed again; sales read the diff; the order of
precedence is a setting of the template folder."""

from __future__ import annotations

import hashlib
import io
import json
import re
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader

from app.auth.models import Role
from app.clauses.models import Clause
from app.contracts.models import ContractVersion, VersionStatus
from app.pricing.lines import LineInput
from app.rendering.contract import template_precedence
from app.rendering.errors import RenderingError
from tests.factories import (
    login_as,
    make_clause,
    make_client,
    make_contract,
    make_quote,
    publish_short_cgv,
    send_contract,
    session_of,
    sign_through_services,
)
from tests.integration.fixtures_security import logged_in_csrf


def versions(app: Flask, contract_id: int) -> list[tuple[int, VersionStatus, str, bool]]:
    with session_of(app) as session:
        rows = (
            session.query(ContractVersion)
            .filter(ContractVersion.contract_id == contract_id)
            .order_by(ContractVersion.version)
        )
        return [(v.version, v.status, v.document.sha256, v.amendment) for v in rows]


def test_new_versions_amendments_and_diff(app: Flask) -> None:
    publish_short_cgv(app)
    client_id = make_client(app)
    contract_id = make_contract(app, make_quote(app, client_id))
    sales = login_as(app, Role.SALES)
    token = logged_in_csrf(sales)
    url = f"/contrats/{contract_id}/versions"

    # no reason: field error, nothing generated
    response = sales.post(url, data={"csrf_token": token, "reason": "  "})
    assert response.status_code == 422
    assert "Indiquez le motif" in unescape(response.get_data(as_text=True))

    for bad in ({"quote_id": "²"}, {"clause": "x"}):
        response = sales.post(url, data={"csrf_token": token, "reason": "Motif", **bad})
        assert response.status_code == 422, bad

    # out for signature: no new version under the signer's feet
    link = send_contract(app, contract_id)
    response = sales.post(url, data={"csrf_token": token, "reason": "Changement"})
    assert response.status_code == 409
    sign_through_services(app, link)
    [(_, status, signed_sha, _)] = versions(app, contract_id)
    assert status is VersionStatus.SIGNED

    # after signature: an amendment with a revised quote, v1 untouched
    revised = make_quote(
        app,
        client_id,
        lines=[
            LineInput(
                "Abonnement Premium (12 mois)", Decimal("12"), Decimal("110.00"), Decimal("20")
            ),
            LineInput(
                "Module Signature",
                Decimal("2"),
                Decimal("150.00"),
                Decimal("20"),
                unit="licence",
            ),
        ],
    )
    response = sales.post(
        url,
        data={
            "csrf_token": token,
            "reason": "Ajout du module Signature",
            "quote_id": str(revised),
            "free_text": "Le module est activé sous 48 heures.",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert versions(app, contract_id) == [
        (1, VersionStatus.SIGNED, signed_sha, False),
        (2, VersionStatus.GENERATED, versions(app, contract_id)[1][2], True),
    ]
    pdf = sales.get(f"/contrats/{contract_id}/v2.pdf")
    text = re.sub(
        r"\s+", " ", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    )
    assert "AVENANT (VERSION 2)" in text.upper() and "version 2" in text
    assert (
        hashlib.sha256(sales.get(f"/contrats/{contract_id}/v1.pdf").data).hexdigest() == signed_sha
    )

    # a further change before signature supersedes v2 (not the signed v1)
    response = sales.post(url, data={"csrf_token": token, "reason": "Correction du texte libre"})
    assert response.status_code == 302
    assert [(v, s, a) for v, s, _, a in versions(app, contract_id)] == [
        (1, VersionStatus.SIGNED, False),
        (2, VersionStatus.SUPERSEDED, True),
        (3, VersionStatus.GENERATED, True),
    ]
    page = unescape(sales.get(f"/contrats/{contract_id}").get_data(as_text=True))
    assert "Motif : Ajout du module Signature" in page and "Avenant — version 3" in page

    diff = sales.get(f"/contrats/{contract_id}/comparer?de=1&a=2")
    assert diff.status_code == 200
    html = re.sub(
        r"\s+",
        " ",
        unescape(diff.get_data(as_text=True)).replace("\u202f", " ").replace("\u00a0", " "),
    )
    # the quantity as the PDF writes it: « 2 licences », not « 2 licence »
    assert "Module Signature : 2 licences × 150,00 € = 300,00 € HT" in html
    assert "12 × 100,00 € = 1 200,00 € HT" in html and "12 × 110,00 € = 1 320,00 € HT" in html
    assert "Total TTC 1 440,00 €" in html and "Total TTC 1 944,00 €" in html
    assert "Stipulations complémentaires : Le module est activé sous 48 heures." in html
    assert "CGV" not in html.split("<tbody>", 1)[1]  # same CGV version: not listed
    same = sales.get(f"/contrats/{contract_id}/comparer?de=2&a=3").get_data(as_text=True)
    assert "Stipulations complémentaires" in same  # v3 dropped the free text
    assert sales.get(f"/contrats/{contract_id}/comparer?de=1&a=9").status_code == 404


def test_precedence_is_a_setting_of_the_template_folder(tmp_path: Path) -> None:
    assert template_precedence() == (
        "Conditions particulières",
        "Proposition commerciale",
        "Conditions générales de vente",
    )
    assert template_precedence(tmp_path) == template_precedence()  # no file: the bundled one
    cgv_first = [
        "Conditions générales de vente",
        "Conditions particulières",
        "Proposition commerciale",
    ]
    (tmp_path / "contract.json").write_text(json.dumps({"precedence": cgv_first}), "utf-8")
    assert template_precedence(tmp_path) == tuple(cgv_first)
    for bad in ({"precedence": cgv_first[:2]}, {"precedence": [*cgv_first, cgv_first[0]]}, {}):
        (tmp_path / "contract.json").write_text(json.dumps(bad), "utf-8")
        with pytest.raises(RenderingError):
            template_precedence(tmp_path)
    (tmp_path / "contract.json").write_text("{", "utf-8")
    with pytest.raises(RenderingError):
        template_precedence(tmp_path)


def test_the_new_version_form_starts_from_the_latest_version_clauses(app: Flask) -> None:
    """An amendment keeps the library clauses and the free text of the version it follows
    unless sales remove them: the form ticks and fills them in (here « Réversibilité »)."""
    publish_short_cgv(app)
    kept = make_clause(app)  # « Réversibilité »
    other = make_clause(app, title="Sous-traitance", body="Aucune sous-traitance.")
    contract_id = make_contract(
        app,
        make_quote(app, make_client(app)),
        clause_ids=[kept],
        free_text="Hébergement en France.",
    )
    with session_of(app) as session:
        kept_id, other_id = (session.get_one(Clause, c).latest.id for c in (kept, other))
    sales = login_as(app, Role.SALES)
    page = unescape(sales.get(f"/contrats/{contract_id}").get_data(as_text=True))
    form = page.split("<h2>Nouvelle version</h2>", 1)[1]
    assert f'name="clause" value="{kept_id}" checked>' in form
    assert f'name="clause" value="{other_id}">' in form
    assert ">Hébergement en France.</textarea>" in form
