"""The full contract: real CGV, 20 quote lines, 2 particular terms, hostile client data."""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject

from app.rendering.contract import render_contract_html, render_contract_pdf
from app.rendering.contract_document import (
    COMMERCIAL_PROPOSAL,
    GENERAL_TERMS,
    PARTICULAR_TERMS,
    ContractDocument,
    ParticularTerm,
    Party,
    Signer,
)
from app.rendering.errors import RenderingError
from app.rendering.french import format_amount, typographie
from app.rendering.jinja import DEFAULT_TEMPLATE_DIRS, make_environment
from app.rendering.pdf import ASSETS_BASE_URL
from tests.unit.rendering.factory import (
    CLIENT,
    HOSTILE_CLIENT_NAME,
    HOSTILE_STRINGS,
    RenderedContract,
    sha256_text,
)

REFERENCE = "Contrat CTR-2026-0001 — version 1"


def _flat(text: str) -> str:
    """Extracted text with no-break spaces as spaces and line breaks collapsed."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " "))


@pytest.fixture(scope="module")
def pages(rendered_contract: RenderedContract) -> list[str]:
    reader = PdfReader(io.BytesIO(rendered_contract.pdf))
    return [page.extract_text() for page in reader.pages]


@pytest.fixture(scope="module")
def full_text(pages: list[str]) -> str:
    return "\n".join(pages)


def test_every_page_has_the_reference_and_its_number(pages: list[str]) -> None:
    total = len(pages)
    assert total >= 10  # cover, quote, terms, 15-25 pages of CGV..., signatures
    for number, text in enumerate(pages, start=1):
        assert REFERENCE in text, f"page {number}"
        assert f"page {number} / {total}" in text, f"page {number}"


def _cgv_headings(markdown: str) -> list[str]:
    lines = markdown.splitlines()
    headings = [
        lines[i].strip()
        for i in range(len(lines) - 1)
        if lines[i].strip() and re.fullmatch(r"-{3,}|={3,}", lines[i + 1].strip())
    ]
    headings += [m.group(1) for m in re.finditer(r"^#{1,6} +(.+)$", markdown, re.MULTILINE)]
    return [h.replace("\\.", ".") for h in headings]


def test_the_cgv_is_there_in_full(
    rendered_contract: RenderedContract, full_text: str, cgv_markdown: str
) -> None:
    text = _flat(full_text)
    assert "Conditions générales de vente — version 2.2 du 4 septembre 2022" in text
    assert rendered_contract.document.cgv_sha256 in text.replace(" ", "")
    headings = _cgv_headings(cgv_markdown)
    assert len(headings) >= 25
    for heading in headings:
        assert _flat(typographie(heading)) in text, heading
    for number in range(1, 19):
        assert f"ARTICLE {number}. " in text
    # The last words of the CGV made it too.
    assert "obtenir le PAS de QUANTOS EVOLUTION" in text


def test_quote_lines_and_totals_are_formatted_the_french_way(
    rendered_contract: RenderedContract, pages: list[str]
) -> None:
    doc = rendered_contract.document
    quote_page = pages[1]
    assert "Proposition commerciale n° DEV-2026-0042" in quote_page
    for line in doc.lines:
        assert line.designation in quote_page
        assert format_amount(line.total_excl_vat) in quote_page
    assert f"Total HT {format_amount(doc.total_excl_vat)}" in quote_page
    assert f"Total TTC {format_amount(doc.total_incl_vat)}" in quote_page
    assert f"Total TVA {format_amount(doc.total_vat)}" in quote_page
    for vat in doc.vat_breakdown:
        assert format_amount(vat.vat) in quote_page
    assert "TVA 20\u00a0% sur " in quote_page
    assert "TVA 5,5\u00a0% sur " in quote_page
    # Narrow no-break space between thousands, comma, no-break space before the euro sign.
    assert re.search(r"Total TTC \d{1,3}(\u202f\d{3})+,\d{2}\u00a0€", quote_page)
    assert "2,5 " in quote_page  # a decimal quantity


def test_hostile_text_appears_literally(
    rendered_contract: RenderedContract, pages: list[str], full_text: str
) -> None:
    for hostile in HOSTILE_STRINGS:
        assert hostile in full_text, hostile
    assert HOSTILE_CLIENT_NAME in pages[0]
    assert "1 place {{ 7*7 }}" in pages[0]
    assert "49" not in _flat(full_text).split("1 place")[1][:20]


def test_nothing_but_bundled_fonts_was_fetched(rendered_contract: RenderedContract) -> None:
    fetches = rendered_contract.fetches
    assert fetches
    for attempt in fetches:
        assert attempt.served, attempt
        assert attempt.url.startswith(ASSETS_BASE_URL + "fonts/")


def test_particular_terms_and_precedence(full_text: str) -> None:
    text = _flat(full_text)
    assert "1. Durée et reconduction" in text
    assert "2. Clause de test" in text
    assert "renouvelable par « tacite reconduction » !" in text
    clause = text.split("Documents contractuels et ordre de priorité")[-1]
    assert (
        "1. Conditions particulières "
        "2. Proposition commerciale n° DEV-2026-0042 du 10 janvier 2026 "
        "3. Conditions générales de vente version 2.2 du 4 septembre 2022"
    ) in clause
    assert "les stipulations du document de rang supérieur prévalent" in clause
    assert "l’article 1119 du Code civil" in clause


def test_pdf_is_pdf_a_3b_flavoured(rendered_contract: RenderedContract) -> None:
    reader = PdfReader(io.BytesIO(rendered_contract.pdf))
    root = reader.root_object
    intents = root["/OutputIntents"].get_object()
    assert isinstance(intents, ArrayObject)
    intent = intents[0].get_object()
    assert isinstance(intent, DictionaryObject)
    assert intent["/S"] == NameObject("/GTS_PDFA1")
    assert "/DestOutputProfile" in intent
    metadata = root["/Metadata"].get_object()
    assert isinstance(metadata, StreamObject)
    xmp = metadata.get_data()
    assert b'pdfaid:part="3"' in xmp
    assert b'pdfaid:conformance="B"' in xmp
    assert reader.metadata is not None
    assert reader.metadata.title == REFERENCE
    # Dates come from the document, not from the clock.
    assert reader.metadata.creation_date_raw is not None
    assert reader.metadata.creation_date_raw.startswith("D:20260115130500")
    assert b"<xmp:CreateDate>2026-01-15T13:05:00Z</xmp:CreateDate>" in xmp


def _fonts(resources: Any, seen: set[int]) -> Iterator[DictionaryObject]:
    if resources is None:
        return
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        yield font.get_object()
    for xobject in (resources.get("/XObject") or {}).values():
        ref = xobject.idnum if isinstance(xobject, IndirectObject) else id(xobject)
        if ref in seen:
            continue
        seen.add(ref)
        yield from _fonts(xobject.get_object().get("/Resources"), seen)


def test_every_font_is_embedded_and_bundled(rendered_contract: RenderedContract) -> None:
    reader = PdfReader(io.BytesIO(rendered_contract.pdf))
    seen: set[int] = set()
    names = set()
    for page in reader.pages:
        for font in _fonts(page.get("/Resources"), seen):
            names.add(str(font["/BaseFont"]))
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target["/FontDescriptor"].get_object()
            assert isinstance(descriptor, DictionaryObject)
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font["/BaseFont"]
    assert names
    # Subsets of the bundled family only: nothing came from the system's fonts.
    assert all(re.fullmatch(r"/[A-Z]{6}\+Paraphe-Sans(-\w+)?", name) for name in names), names


def test_rendering_is_deterministic_and_quiet(
    rendered_contract: RenderedContract, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    start = time.perf_counter()
    again = render_contract_pdf(rendered_contract.document)
    seconds = time.perf_counter() - start
    print(f"\nfull contract, warm render: {seconds:.2f} s")
    assert again == rendered_contract.pdf
    assert [r for r in caplog.records if r.name.startswith("weasyprint")] == []


# --- HTML-level checks (fast, no PDF) ---------------------------------------------------


def test_html_escapes_hostile_values(make_document: Callable[..., ContractDocument]) -> None:
    html = render_contract_html(make_document(), make_environment())
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html
    assert "{{ 7*7 }}" in html


def test_a_party_registered_abroad_has_no_siren_line(
    make_document: Callable[..., ContractDocument],
) -> None:
    abroad = replace(CLIENT, siren="", vat_number="DE136695976")
    html = render_contract_html(make_document(client=abroad), make_environment())
    client_block = html[html.index(f'<p class="party-name">{abroad.legal_name}</p>') :]
    client_block = client_block[: client_block.index("</div>")]
    assert "SIREN" not in client_block and "DE136695976" in client_block
    # the French vendor keeps its own, grouped by three
    assert "SIREN&nbsp;: 799" in html


def test_art_1119_is_cited_only_when_particular_terms_prevail(
    make_document: Callable[..., ContractDocument],
) -> None:
    env = make_environment()
    cgv_first = make_document(precedence=(GENERAL_TERMS, PARTICULAR_TERMS, COMMERCIAL_PROPOSAL))
    html = render_contract_html(cgv_first, env)
    assert "1119" not in html
    order = [html.index(f"</span> {name}") for name in cgv_first.precedence]
    assert order == sorted(order)
    assert "1119" in render_contract_html(make_document(), env)


VENDOR_TEMPLATE = """<html><head><style>@page {{ '{' }} {{ page_css }} {{ '}' }}</style></head>
<body><p>{{ doc.reference }} pour {{ doc.client.legal_name }}</p>
{% for slot in signature_slots %}
<div id="signature-{{ slot.number }}" style="position: absolute; {{ slot.frame_style }}
     margin-top: TOP_SHIFTpt; box-sizing: border-box; border: 1pt solid black"></div>
{% endfor %}</body></html>"""


def test_a_vendor_template_folder_is_used(
    make_document: Callable[..., ContractDocument], tmp_path: Path
) -> None:
    (tmp_path / "contract.html").write_text(VENDOR_TEMPLATE.replace("TOP_SHIFT", "0"))
    pdf = render_contract_pdf(make_document(), templates_dir=tmp_path, pdf_variant=None)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert f"{REFERENCE} pour {HOSTILE_CLIENT_NAME}" in text
    env = make_environment([tmp_path, *DEFAULT_TEMPLATE_DIRS])
    with pytest.raises(ValueError):
        render_contract_pdf(make_document(), templates_dir=tmp_path, env=env)


@pytest.mark.parametrize(
    "template",
    [
        VENDOR_TEMPLATE.replace("TOP_SHIFT", "3"),  # a frame 3 pt too low
        VENDOR_TEMPLATE.replace("TOP_SHIFT", "0").replace(  # a page after the signatures
            "</body>", '<p style="break-before: page">Annexe</p></body>'
        ),
        "<p>pas de cadres de signature</p>",
    ],
)
def test_a_template_breaking_the_signature_geometry_is_refused(
    make_document: Callable[..., ContractDocument], tmp_path: Path, template: str
) -> None:
    (tmp_path / "contract.html").write_text(template)
    with pytest.raises(RenderingError, match="signature-1"):
        render_contract_pdf(make_document(), templates_dir=tmp_path, pdf_variant=None)


def test_the_sirens_are_grouped_and_kept_on_one_line(
    make_document: Callable[..., ContractDocument],
) -> None:
    """« SIREN : 799 001 391 », held by no-break spaces, as the invoices print it."""
    html = render_contract_html(make_document(), make_environment())
    assert "SIREN&nbsp;: 799\u00a0001\u00a0391" in html  # the vendor
    assert "SIREN&nbsp;: 123\u00a0456\u00a0789" in html  # the client
    assert ": 799001391" not in html


def test_optional_party_fields(make_document: Callable[..., ContractDocument]) -> None:
    vendor = Party("Éditeur SAS", "111222333", None, ("Paris",), "Anne Martin")
    html = render_contract_html(make_document(vendor=vendor), make_environment())
    assert "Éditeur SAS" in html


# --- The document's own checks -----------------------------------------------------------


def test_plain_tuples_are_accepted_for_terms_and_signers(
    make_document: Callable[..., ContractDocument],
) -> None:
    doc = make_document(
        particular_terms=[("Titre", "Corps")], signers=[("A B", "a@b.example", "Client")]
    )
    # The plain tuples came out as named tuples.
    term, signer = doc.particular_terms[0], doc.signers[0]
    assert isinstance(term, ParticularTerm)
    assert term.title == "Titre"
    assert isinstance(signer, Signer)
    assert signer.email == "a@b.example"
    assert isinstance(doc.particular_terms, tuple)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cgv_sha256": sha256_text("autre texte")}, "ne correspond pas"),
        ({"cgv_sha256": "ABC"}, "hexadécimaux"),
        ({"generated_at": datetime.fromisoformat("2026-01-15T13:05")}, "fuseau"),
        ({"signers": ()}, "signataires"),
        ({"version": 0}, "version"),
        ({"precedence": (GENERAL_TERMS, GENERAL_TERMS)}, "une fois"),
    ],
)
def test_invalid_documents_are_refused(
    make_document: Callable[..., ContractDocument], changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make_document(**changes)
