"""Hostile text typed by users (client name, quote lines, particular terms) is data, never
markup: escaped on every web page, printed literally in the contract PDF, never evaluated as a
template, and never a reason for the server to fetch anything."""

from __future__ import annotations

import io
import threading
import unicodedata
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.request import urlopen

import pytest
from flask import Flask
from markupsafe import escape
from pypdf import PdfReader

from app.auth.models import Role
from app.clients.models import Client
from tests.conftest import csrf_from
from tests.factories import VALID_CLIENT, count, login_as, publish_short_cgv
from tests.integration.fixtures_security import check_each, iter_outbox_links
from tests.integration.helpers import authenticate


class Canary:
    """A tiny HTTP server on 127.0.0.1 that records every request it receives."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                canary.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def requests_other_than_ping(self) -> list[str]:
        return [p for p in self.paths if p != "/ping"]


@pytest.fixture
def canary() -> Iterator[Canary]:
    server = Canary()
    server.thread.start()
    with urlopen(f"{server.base}/ping", timeout=5) as response:
        assert response.status == 200  # it listens: a fetch would be seen
    yield server
    server.server.shutdown()
    server.server.server_close()
    server.thread.join(timeout=5)


def hostile_name(base: str) -> str:
    return (
        "<script>alert(1)</script>{{ 7*7 }}{% raw %}{% for x in () %}{% endraw %}"
        f'<img src="{base}/name.png">'
    )


def hostile_terms(base: str) -> str:
    # Paragraphs (blank lines between) so each snippet is one run of text.
    return "\n\n".join(
        [
            "<b>gras</b> <script>alert(2)</script> <iframe src=file:///etc/passwd></iframe>",
            f'<img src="{base}/terms.png">',
            f"<style>@import url({base}/evil.css);</style>",
            "<div style=background:url(file:///etc/passwd)>css</div>",
            "p { background-image: url(file:///etc/passwd) }",
            "{{ 7*7 }} {% for x in range(3) %}X{% endfor %} {% include 'contract.css' %}",
            "![x](file:///etc/passwd)",
            f"![logo]({base}/md.png)",
            f"[lien]({base}/link)",
        ]
    )


def flat(text: str) -> str:
    """Text without any whitespace (PDF extraction re-wraps lines and French typography adds
    no-break spaces), with ligatures unfolded."""
    text = unicodedata.normalize("NFKC", text).replace("\u00ad", "")
    return "".join(ch for ch in text if not ch.isspace())


def assert_escaped(html: str, *literals: str) -> None:
    assert "<script>alert(" not in html
    assert '<img src="http://127.0.0.1' not in html
    assert "<iframe src=file" not in html and "<style>@import" not in html
    assert "&lt;/script&gt;49" not in html  # "{{ 7*7 }}" was not evaluated
    for literal in literals:
        assert str(escape(literal)) in html, literal[:60]


def test_hostile_text_is_shown_escaped_and_printed_literally(app: Flask, canary: Canary) -> None:
    name, terms = hostile_name(canary.base), hostile_terms(canary.base)
    designation = '<img src=x onerror="alert(3)"> {{ 6*7 }}'
    assert len(name) <= 200
    publish_short_cgv(app)
    sales = login_as(app, Role.SALES)

    # a refused form shows the hostile value back, escaped, in the input
    token = csrf_from(sales.get("/clients/nouveau").get_data(as_text=True))
    refused = sales.post(
        "/clients/nouveau",
        data={"csrf_token": token, **VALID_CLIENT, "legal_name": name, "siren": "123"},
    )
    assert refused.status_code == 422
    assert_escaped(refused.get_data(as_text=True), name)

    created = sales.post(
        "/clients/nouveau", data={"csrf_token": token, **VALID_CLIENT, "legal_name": name}
    )
    assert created.status_code == 302
    client_url = created.headers["Location"]
    first_view = sales.get(client_url).get_data(as_text=True)
    assert f"Client « {escape(name)} » créé." in first_view  # the flash message
    assert_escaped(first_view, name)
    client_id = int(client_url.rsplit("/", 1)[1])
    with app.extensions["paraphe"].session_factory() as session:
        stored = session.get(Client, client_id)
        assert stored is not None and stored.legal_name == name  # stored as typed
    assert count(app, Client) == 1

    response = sales.post(
        f"/devis/nouveau/{client_id}",
        data={
            "csrf_token": token,
            "lines-0-designation": designation,
            "lines-0-quantity": "1",
            "lines-0-unit_price": "49",
            "lines-0-vat_rate": "20",
            "particular_terms": terms,
            "save": "Enregistrer",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    quote_url = response.headers["Location"]
    quote_id = int(quote_url.rsplit("/", 1)[1])

    generated = sales.post(f"/contrats/generer/{quote_id}", data={"csrf_token": token})
    assert generated.status_code == 302, generated.get_data(as_text=True)[:300]
    contract_url = generated.headers["Location"]
    sent = sales.post(f"{contract_url}/v1/envoyer", data={"csrf_token": token})
    assert sent.status_code == 302
    (link,) = iter_outbox_links(app)

    # every page showing the text shows it escaped
    pages = [
        (client_url, (name,)),
        ("/clients/", (name,)),
        (f"/devis/nouveau/{client_id}", (name,)),
        (quote_url, (name, designation, terms)),
        ("/contrats/", (name,)),
        (contract_url, (name,)),
    ]
    signer = app.test_client()

    def check(url: str, literals: tuple[str, ...]) -> None:
        browser = signer if url == link else sales
        response = browser.get(url)
        assert response.status_code == 200, response.status_code
        assert response.mimetype == "text/html"
        assert_escaped(response.get_data(as_text=True), *literals)

    check_each([*pages, (link, (name,))], check)

    # the contract PDF prints the text as typed: no markup, no template evaluation
    pdf = sales.get(f"{contract_url}/v1.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = flat("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages))
    expected = [
        name,
        designation,
        "<b>gras</b> <script>alert(2)</script> <iframe src=file:///etc/passwd></iframe>",
        f'<img src="{canary.base}/terms.png">',
        f"<style>@import url({canary.base}/evil.css);</style>",
        "<div style=background:url(file:///etc/passwd)>css</div>",
        "p { background-image: url(file:///etc/passwd) }",
        "{{ 7*7 }} {% for x in range(3) %}X{% endfor %} {% include 'contract.css' %}",
        f"![logo]({canary.base}/md.png)",  # typed text: printed as typed, never Markdown
        f"[lien]({canary.base}/link)",
    ]
    missing = [snippet for snippet in expected if flat(snippet) not in text]
    assert not missing, missing
    # the file: image is printed too, as typed text
    assert flat("![x](file:///etc/passwd)") in text
    assert "XXX" not in text  # the {% for %} did not run
    assert "root:x:0:0" not in text  # /etc/passwd was not read into the document

    # and nothing was fetched: not the name's <img>, not the terms' images, CSS or links
    assert canary.requests_other_than_ping() == []

    # the hostile text does not stop the contract from being signed (PDF metadata stays valid)
    authenticate(app, signer, link, "zoe@example.fr")
    consent = {"csrf_token": csrf_from(signer.get(link).get_data(as_text=True))}
    signed = signer.post(link, data={**consent, "accept_cgv": "oui", "agree": "oui"})
    assert signed.status_code == 302, signed.get_data(as_text=True)[:300]
    # then the vendor's countersigner (the sales user), invited once the client has signed
    (_, countersign) = iter_outbox_links(app)
    vendor = app.test_client()
    authenticate(app, vendor, countersign, "sales@example.test")
    consent = {"csrf_token": csrf_from(vendor.get(countersign).get_data(as_text=True))}
    signed = vendor.post(countersign, data={**consent, "accept_cgv": "oui", "agree": "oui"})
    assert signed.status_code == 302, signed.get_data(as_text=True)[:300]
    signed_pdf = signer.get(f"{link}/document-signe.pdf")
    assert signed_pdf.status_code == 200 and signed_pdf.data.startswith(pdf.data)
    assert canary.requests_other_than_ping() == []
