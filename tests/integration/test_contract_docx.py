"""Every contract version as an editable DOCX with the same content; values escaped."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

from docx import Document
from flask import Flask

from app.auth.models import Role
from app.pricing.lines import LineInput
from tests.factories import login_as, make_client, make_contract, make_quote, publish_short_cgv

HOSTILE = "Évil & Co <w:p/></w:t>]]> {{ 7*7 }} {% for x in y %}"


def docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def test_docx_has_the_contract_content_and_hostile_text_stays_text(app: Flask) -> None:
    publish_short_cgv(app)
    client_id = make_client(app, legal_name=HOSTILE)
    quote_id = make_quote(
        app,
        client_id,
        particular_terms="Clause **négociée** : <script>x</script> & {{ 6*7 }}",
        lines=[
            LineInput(
                "Ligne <b>gras</b> & « guillemets »", Decimal("2"), Decimal("10.00"), Decimal("20")
            ),
        ],
    )
    contract_id = make_contract(app, quote_id)
    sales = login_as(app, Role.SALES)
    response = sales.get(f"/contrats/{contract_id}/v1.docx")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype is not None
    assert response.mimetype.endswith("wordprocessingml.document")
    assert 'filename="CTR-' in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
    assert "{{" not in xml.replace("{{ 7*7 }}", "").replace("{{ 6*7 }}", "")  # all tags rendered
    assert "&lt;w:p/&gt;" in xml and "<w:p/></w:t>]]>" not in xml  # escaped, XML intact
    text = docx_text(response.data)
    assert HOSTILE in text  # printed as typed
    assert "& 42" not in text and "Co 49" not in text  # nothing was evaluated
    for expected in (
        "Ligne <b>gras</b> & « guillemets »",
        "20,00\u00a0€",  # line total
        "Total TTC : 24,00\u00a0€",
        "TVA 20\u00a0% sur 20,00\u00a0€ : 4,00\u00a0€",
        "Clause **négociée** : <script>x</script> & {{ 6*7 }}",  # typed: as typed
        "Conditions générales de vente — version",
        "Les présentes conditions régissent l'abonnement au service.",
        "1. Conditions particulières",
        "3. Conditions générales de vente version",
        "Engagement initial de 12\u00a0mois",
        "Zoë Martin",
    ):
        assert expected in text, (expected, text[:3000])
