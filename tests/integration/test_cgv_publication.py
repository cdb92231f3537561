"""Publishing CGV versions from the web UI, notifying clients, click-through acceptance,
the versions API, the report and the comparison page."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from email.message import Message

from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from app.auth.models import Role, Scope
from app.clients.models import Client, ClientStatus
from app.db import transaction, utcnow
from app.documents.models import Document, DocumentKind
from app.terms.models import AcceptanceMethod, CgvAcceptance, CgvNotification, CgvVersion
from tests.conftest import csrf_from
from tests.factories import count, login_as, make_client, make_token, runtime, session_of
from tests.integration.helpers import body_text, outbox_messages, publish_cgv, xmp_metadata

BODY_1 = "# CGV\n\n## Article 1. Objet\n\nLe service.\n\n## Article 2. Prix\n\n100 € par mois.\n"
BODY_2 = "# CGV\n\n## Article 1. Objet\n\nLe service.\n\n## Article 2. Prix\n\n120 € par mois.\n"


def publish(browser: FlaskClient, **overrides: str) -> TestResponse:
    data = {
        "label": "1.0",
        "title": "Conditions générales de vente",
        "effective_date": "2024-01-01",
        "kind": "minor",
        "summary": "Première version.",
        "body_markdown": BODY_1,
        **overrides,
    }
    page = browser.get("/cgv/nouvelle")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Opposable à un client seulement après son acceptation expresse" in html
    return publish_cgv(browser, data)


def outbox(app: Flask) -> list[Message]:
    return outbox_messages(runtime(app).settings.outbox_dir)


def test_publish_archive_notify_and_refusals(app: Flask) -> None:
    active = make_client(app)
    gone = make_client(app, siren="732829320", vat_number="", signer_email="old@example.fr")
    with transaction(runtime(app).session_factory) as session:
        session.execute(
            update(Client).where(Client.id == gone).values(status=ClientStatus.TERMINATED)
        )
    legal = login_as(app, Role.LEGAL)

    response = publish(legal)
    assert response.status_code == 302, response.get_data(as_text=True)
    with session_of(app) as session:
        version = session.scalars(select(CgvVersion)).one()
        document = session.get(Document, version.document_id)
        assert document is not None
        assert document.kind is DocumentKind.CGV and document.client_id is None
        notification = session.scalars(select(CgvNotification)).one()
        assert notification.client_id == active and notification.sent_at is not None
        assert notification.link_token_hash is None  # minor: no acceptance needed
    # the public, stable URL serves the archived bytes
    anonymous = app.test_client()
    pdf = anonymous.get("/cgv/1.0.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.data))
    xmp = xmp_metadata(reader)
    assert b'pdfaid:part="3"' in xmp  # PDF/A-3b
    assert "Le service." in "".join(page.extract_text() for page in reader.pages)
    assert pdf.headers["ETag"] == f'"{document.sha256}"'
    assert anonymous.get("/cgv/9.9.pdf").status_code == 404
    # one email, to the active client only, with the summary and the PDF link
    mails = outbox(app)
    assert [m["To"] for m in mails] == ["zoe@example.fr"]
    text = body_text(mails[0])
    assert "Première version." in text and "/cgv/1.0.pdf" in text
    assert "Article 2. Prix" not in text  # a link to the PDF, not the whole text
    assert "/cgv/accepter/" not in text
    # the client never accepted anything: the minor version does not bind it, and says so
    assert "ne vous sera opposable qu'après votre acceptation" in text

    before = (count(app, CgvVersion), count(app, Document), count(app, CgvNotification))
    for overrides, field, message in [
        ({"label": "1.0"}, "label", "existe déjà"),
        ({"label": "1.1", "body_markdown": "  "}, "body_markdown", "vide"),
        ({"label": "1.1", "effective_date": "2023-12-31"}, "effective_date", "précède"),
    ]:
        response = publish(legal, **overrides)
        assert response.status_code == 422, (overrides, response.status_code)
        html = response.get_data(as_text=True)
        assert f'id="{field}-error"' in html and message in html, (field, html[-2000:])
    assert (count(app, CgvVersion), count(app, Document), count(app, CgvNotification)) == before
    assert len(outbox(app)) == 1

    assert login_as(app, Role.SALES).get("/cgv/nouvelle").status_code == 403


def _link(app: Flask) -> str:
    for message in outbox(app):
        match = re.search(r"https?://[^/\s]+(/cgv/accepter/[A-Za-z0-9_\-]+)", body_text(message))
        if match:
            return match.group(1)
    raise AssertionError("no acceptance link sent")


def _accept(browser: FlaskClient, link: str, **data: str) -> TestResponse:
    page = browser.get(link)
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    form = {
        "csrf_token": csrf_from(html),
        "version_id": re.search(r'name="version_id" value="(\d+)"', html).group(1),  # type: ignore[union-attr]
        "text_sha256": re.search(r'name="text_sha256" value="([0-9a-f]+)"', html).group(1),  # type: ignore[union-attr]
        "accept": "oui",
    }
    form.update(data)
    return browser.post(link, data=form, headers={"User-Agent": "Navigateur de test"})


def test_material_version_click_through(app: Flask) -> None:
    client_id = make_client(app)
    legal = login_as(app, Role.LEGAL)
    assert publish(legal).status_code == 302
    assert (
        publish(
            legal,
            label="2.0",
            kind="material",
            effective_date="2024-06-01",
            body_markdown=BODY_2,
            summary="Hausse du prix.",
        ).status_code
        == 302
    )
    link = _link(app)
    browser = app.test_client()

    # refusals: nothing recorded, the link still works afterwards
    with session_of(app) as session:
        first = session.scalars(select(CgvVersion).where(CgvVersion.label == "1.0")).one()
    for data, status, text in [
        ({"accept": ""}, 422, "Cochez la case"),
        ({"text_sha256": "0" * 64}, 409, "empreinte différente"),
        ({"version_id": "424242"}, 404, "pas publiée"),
        ({"version_id": str(first.id), "text_sha256": first.sha256}, 409, "que la version 2.0"),
    ]:
        response = _accept(browser, link, **data)
        assert response.status_code == status, (data, response.get_data(as_text=True)[-800:])
        assert text in response.get_data(as_text=True)
    assert count(app, CgvAcceptance) == 0
    assert browser.get("/cgv/accepter/inconnu").status_code == 404

    response = _accept(browser, link)
    assert response.status_code == 200
    assert "Acceptation enregistrée" in response.get_data(as_text=True)
    with session_of(app) as session:
        acceptance = session.scalars(select(CgvAcceptance)).one()
        assert acceptance.client_id == client_id
        assert acceptance.method is AcceptanceMethod.CLICK_THROUGH
        assert acceptance.cgv_version.label == "2.0"
        assert acceptance.text_sha256 == acceptance.cgv_version.sha256
        assert acceptance.ip == "127.0.0.1" and acceptance.user_agent == "Navigateur de test"
    # used link → 410, nothing more recorded
    again = browser.get(link)
    assert again.status_code == 410 and "déjà servi" in again.get_data(as_text=True)
    assert count(app, CgvAcceptance) == 1

    # the API shows the versions, their PDF and the acceptance; the client is bound by 2.0
    headers = {"Authorization": f"Bearer {make_token(app, Scope.READ)}"}
    api = app.test_client()
    items = api.get("/api/v1/cgv-versions", headers=headers).get_json()["items"]
    assert [i["label"] for i in items] == ["2.0", "1.0"]
    detail = api.get(items[0]["links"]["self"], headers=headers).get_json()
    assert detail["kind"] == "material" and detail["links"]["pdf"] == "/cgv/2.0.pdf"
    assert len(detail["sha256"]) == 64 and detail["summary"] == "Hausse du prix."
    accepted = api.get(detail["links"]["acceptances"], headers=headers).get_json()["items"]
    assert [(a["client_id"], a["method"]) for a in accepted] == [(client_id, "click_through")]
    assert api.get("/api/v1/cgv-versions/999999", headers=headers).status_code == 404
    bound = api.get(f"/api/v1/clients/{client_id}/cgv", headers=headers).get_json()
    assert bound["cgv_version"]["label"] == "2.0"

    # comparison page: only the price article changed
    page = legal.get(f"/cgv/comparer?de={first.id}&a={detail['id']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('data-status="changed"') == 1 and "Article 2. Prix" in html
    total = html.count("data-status=")
    assert f"1\u00a0article modifié, ajouté ou supprimé sur {total}." in html  # not « (s) »
    assert legal.get("/cgv/comparer?de=abc").status_code == 422


def test_expired_link_records_nothing(app: Flask) -> None:
    make_client(app)
    legal = login_as(app, Role.LEGAL)
    assert publish(legal, kind="material").status_code == 302
    link = _link(app)
    with transaction(runtime(app).session_factory) as session:
        session.execute(
            update(CgvNotification).values(link_expires_at=utcnow() - timedelta(minutes=1))
        )
    browser = app.test_client()
    page = browser.get(link)
    assert page.status_code == 410 and "expiré" in page.get_data(as_text=True)
    csrf = csrf_from(browser.get("/connexion").get_data(as_text=True))
    response = browser.post(link, data={"csrf_token": csrf, "accept": "oui"})
    assert response.status_code == 410
    assert count(app, CgvAcceptance) == 0


def test_report_counts_and_csv(app: Flask) -> None:
    from tests.integration.test_cgv_opposable import build_history

    ids = build_history(app)
    legal = login_as(app, Role.LEGAL)
    page = legal.get("/cgv/rapport?at=2025-06-01")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    counts = dict(re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">(\d+)</td></tr>", html))
    # A: 1.0, B: 2.1, C: 2.1, D: 2.1, E: none, F: 2.0
    assert counts == {"2.1": "3", "2.0": "1", "1.0": "1", "aucune": "1"}
    not_bound = html[html.index('id="not-bound"') :]
    assert "Client A" in not_bound and "Client E" in not_bound
    assert "Client B" not in not_bound and "Client F" not in not_bound
    assert "<progress" in html

    csv_response = legal.get("/cgv/rapport.csv?at=2025-06-01")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    lines = csv_response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("client_id;raison_sociale;siren;version_opposable")
    rows = {line.split(";")[0]: line.split(";") for line in lines[1:]}
    assert rows[str(ids["A"])][3] == "1.0" and rows[str(ids["A"])][-1] == "non"
    assert rows[str(ids["B"])][3] == "2.1" and rows[str(ids["B"])][-1] == "oui"
    assert legal.get("/cgv/rapport?at=hier").status_code == 422


def test_hostile_label_and_text_are_refused_or_inert(app: Flask) -> None:
    legal = login_as(app, Role.LEGAL)
    before = count(app, CgvVersion)
    for overrides, field in [
        ({"label": "../2.3"}, "label"),
        ({"label": "2.3<script>"}, "label"),
        ({"title": "CGV\x00"}, "title"),
    ]:
        response = publish(legal, **overrides)
        assert response.status_code == 422, overrides
        assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert count(app, CgvVersion) == before
    # Markup in the summary is shown as text on the version page
    response = publish(legal, summary="<img src=x onerror=alert(1)> {{ 7*7 }}")
    assert response.status_code == 302
    page = legal.get(response.headers["Location"]).get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt; {{ 7*7 }}" in page and "<img src=x" not in page


def test_a_version_published_from_the_command_line_gets_its_pdf_once(app: Flask) -> None:
    from tests.factories import publish_cgv

    publish_cgv(app, BODY_1, label="0.9", effective="2023-01-01")  # service only: no PDF yet
    assert count(app, Document) == 0
    anonymous = app.test_client()
    first = anonymous.get("/cgv/0.9.pdf")
    second = anonymous.get("/cgv/0.9.pdf")
    assert first.status_code == second.status_code == 200
    assert first.data == second.data and first.data.startswith(b"%PDF-")
    assert count(app, Document) == 1
    with session_of(app) as session:
        version = session.scalars(select(CgvVersion)).one()
        document = session.get(Document, version.document_id)
        assert document is not None and first.headers["ETag"] == f'"{document.sha256}"'


def test_report_covers_clients_until_their_termination_takes_effect(app: Flask) -> None:
    from tests.integration.test_cgv_opposable import build_history
    from tests.integration.test_french_pages import problems_of
    from tests.unit.terms.history import CLIENTS, VERSIONS

    ids = build_history(app)
    at = date(2025, 6, 1)
    with transaction(runtime(app).session_factory) as session:
        # E's termination takes effect after the day: still a client; F's already has
        for name, on in (("E", at + timedelta(days=1)), ("F", at)):
            session.execute(
                update(Client)
                .where(Client.id == ids[name])
                .values(status=ClientStatus.TERMINATED, terminated_on=on)
            )
    legal = login_as(app, Role.LEGAL)
    html = legal.get(f"/cgv/rapport?at={at.isoformat()}").get_data(as_text=True)
    counts = dict(re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">(\d+)</td></tr>", html))
    assert counts == {"2.1": "3", "1.0": "1", "aucune": "1"}  # E counted (none), F gone
    not_bound = html[html.index('id="not-bound"') :]
    assert "Client E" in not_bound and "Client F" not in not_bound
    # the chart: one bar per version in force, as many accepted as the history says
    chart = html[html.index('<svg id="acceptance-chart"') : html.index("</svg>")]
    active = [name for name in CLIENTS if name != "F"]
    for label, (_kind, effective) in VERSIONS.items():
        assert effective <= at
        accepted = sum(
            any(lab == label and on <= at for lab, on in CLIENTS[n]["accepted"])  # type: ignore[attr-defined]
            for n in active
        )
        assert f'data-version="{label}"' in chart
        clients = "clients" if accepted >= 2 else "client"  # French: 0 and 1 singular
        assert f"Version {label} : {accepted}\u00a0{clients} sur {len(active)}." in chart
    assert "<script" not in chart and not problems_of(html), problems_of(html)
