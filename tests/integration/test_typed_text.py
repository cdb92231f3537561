"""What sales typed is what the contract says (issue 12).

Particular terms typed on the quote and free text typed when generating a contract are printed
exactly as typed, line breaks kept, in the PDF and in the DOCX: nothing is read as Markdown or
as a template. Only clauses of the legal library are Markdown. The quote page shows a preview
of the printed text.
"""

from __future__ import annotations

import io
import subprocess
from typing import Any

from docx import Document
from flask import Flask
from markupsafe import escape
from pypdf import PdfReader

from app.auth.models import Role
from tests.factories import VALID_CLIENT, login_as, make_clause, make_client, publish_short_cgv
from tests.integration.fixtures_security import logged_in_csrf
from tests.integration.helpers import post_one_line_quote

TYPED_LINES = [
    "{{ ''.__class__.__mro__ }}",
    "Le __init__ et les **gras** restent *tels quels* : {% if x %}oui{% endif %}",
    "<script>alert(1)</script> & <b>pas gras</b>",
    "# pas un titre",
    "- pas une liste",
    "[pas un lien](https://exemple.fr) ![pas une image](x.png)",
]
TYPED = "\n".join(TYPED_LINES)
FREE_LINES = ["Remise __exceptionnelle__ de **10 %**", "{{ 7*7 }} reste écrit 7*7"]
FREE = "\n".join(FREE_LINES)
CLIENT_NAME = "Les **Ateliers** __Réunis__"


def pdf_lines(data: bytes) -> list[str]:
    """The PDF's text, one entry per printed line (poppler's reading order)."""
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"],
        input=data,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def pdf_bold_text(data: bytes) -> str:
    """All the text the PDF draws with a bold font."""
    bold: list[str] = []

    def visit(text: str, _cm: Any, _tm: Any, font: Any, _size: Any) -> None:
        if font is not None and "Bold" in str(font.get("/BaseFont", "")):
            bold.append(text)

    for page in PdfReader(io.BytesIO(data)).pages:
        page.extract_text(visitor_text=visit)
    return "".join(bold)


def contains_lines(lines: list[str], expected: list[str]) -> bool:
    """``expected`` appears as consecutive printed lines."""
    return any(lines[i : i + len(expected)] == expected for i in range(len(lines)))


def make_typed_contract(app: Flask) -> tuple[Any, str, int]:
    """Through the web forms, as sales would: a quote with ``TYPED`` as particular terms (sent
    with the browser's CRLF line endings), then a contract with ``FREE`` and a library clause."""
    publish_short_cgv(app)
    make_clause(
        app, title="Confidentialité", body="**Clause** de la bibliothèque pour {{ client_name }}."
    )
    client_id = make_client(app, legal_name=CLIENT_NAME)
    sales = login_as(app, Role.SALES)
    created = post_one_line_quote(
        sales, client_id, "Abonnement", TYPED.replace("\n", "\r\n") + "\r\n"
    )
    assert created.status_code == 302, created.get_data(as_text=True)[:500]
    quote_url = created.headers["Location"]
    quote_id = int(quote_url.rsplit("/", 1)[1])
    page = sales.get(quote_url).get_data(as_text=True)
    clause_id = page.split('name="clause" value="', 1)[1].split('"', 1)[0]
    generated = sales.post(
        f"/contrats/generer/{quote_id}",
        data={
            "csrf_token": logged_in_csrf(sales),
            "clause": clause_id,
            "free_text": FREE.replace("\n", "\r\n"),
        },
    )
    assert generated.status_code == 302, generated.get_data(as_text=True)[:500]
    return sales, quote_url, int(generated.headers["Location"].rsplit("/", 1)[1])


def test_typed_terms_are_printed_as_typed_in_the_pdf(app: Flask) -> None:
    sales, _quote_url, contract_id = make_typed_contract(app)
    pdf = sales.get(f"/contrats/{contract_id}/v1.pdf")
    assert pdf.status_code == 200
    lines = pdf_lines(pdf.data)
    assert contains_lines(lines, TYPED_LINES), lines
    assert contains_lines(lines, FREE_LINES), lines
    bold = pdf_bold_text(pdf.data)
    for word in ("class", "mro", "init", "gras", "exceptionnelle", "10 %"):
        assert word not in bold, (word, bold)
    # only the library clause is Markdown: its bold is bold, its placeholder filled with the
    # client's name as typed
    assert "Clause" in bold
    assert f"Clause de la bibliothèque pour {CLIENT_NAME}." in lines


def test_typed_terms_are_written_as_typed_in_the_docx(app: Flask) -> None:
    sales, _quote_url, contract_id = make_typed_contract(app)
    response = sales.get(f"/contrats/{contract_id}/v1.docx")
    assert response.status_code == 200
    paragraphs = {p.text: p for p in Document(io.BytesIO(response.data)).paragraphs}
    for typed in (TYPED, FREE):
        assert typed in paragraphs, (typed, list(paragraphs))
        assert not any(run.bold for run in paragraphs[typed].runs)
    assert f"Clause de la bibliothèque pour {CLIENT_NAME}." in paragraphs


def test_the_quote_and_contract_pages_preview_the_printed_text(app: Flask) -> None:
    sales, quote_url, contract_id = make_typed_contract(app)
    page = sales.get(quote_url).get_data(as_text=True)
    assert f'<div class="typed-text" id="particular-terms-preview">{escape(TYPED)}</div>' in page
    assert "<script>alert(1)" not in page
    # the contract page shows each version's particular terms as printed: typed text as
    # typed, the library clause as Markdown
    page = sales.get(f"/contrats/{contract_id}").get_data(as_text=True)
    printed = page.split('id="printed-terms-v1"', 1)[1].split("</details>", 1)[0]
    assert f'<div class="typed-text">{escape(TYPED)}</div>' in printed
    assert f'<div class="typed-text">{escape(FREE)}</div>' in printed
    assert "<strong>Clause</strong> de la bibliothèque pour" in printed
    assert "<script>alert(1)" not in page


def test_the_quote_form_and_the_contract_forms_have_a_live_preview(app: Flask) -> None:
    publish_short_cgv(app)
    client_id = make_client(app, **{**VALID_CLIENT})
    sales = login_as(app, Role.SALES)
    form = sales.get(f"/devis/nouveau/{client_id}").get_data(as_text=True)
    assert 'data-preview="particular_terms"' in form
    assert "typed-preview.js" in form
    script = sales.get("/static/typed-preview.js")
    try:
        assert script.status_code == 200
        assert b"preview.textContent = source.value" in script.data  # text, never HTML
    finally:
        script.close()
