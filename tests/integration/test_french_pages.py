"""The sales pages speak French: no stored English status ("signed", "generated"), no ISO
timestamp and no decimal point in an amount, a quantity or a rate, on every list and page a
salesperson opens (clients, quotes, contracts, invoices)."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from html.parser import HTMLParser

from flask import Flask

from app.auth.models import Role
from app.pricing.lines import LineInput
from app.rendering.labels import STATUS_LABELS
from tests.factories.invoices import make_invoice
from tests.factories.people import login_as
from tests.factories.sales import make_client, make_contract, make_quote, publish_short_cgv
from tests.factories.signing import send_contract, sign_through_services

# Every stored status value, as a whole word ("sent", not "présent").
ENGLISH_STATUS = re.compile(
    r"\b(" + "|".join(sorted({v for t in STATUS_LABELS.values() for v in t})) + r")\b"
)
ISO_TIMESTAMP = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2})?")
# A number written with a point where French writes a comma, before a unit or tax basis.
POINT_AMOUNT = re.compile(r"\d\.\d+\s*(?:€|%|HT|TTC|jours?\b)")
POINT_NUMBER = re.compile(r"\d\.\d")


class _Text(HTMLParser):
    """What a reader sees: text outside <script>/<style>, and apart the text of numeric
    table cells (amounts, quantities, rates)."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.numeric: list[str] = []
        self._skip = 0
        self._num_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        classes = (dict(attrs).get("class") or "").split()
        if tag in ("td", "th") and "num" in classes:
            self._num_depth += 1
            self.numeric.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        if tag in ("td", "th") and self._num_depth:
            self._num_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        if self._num_depth:
            self.numeric[-1] += data


def problems_of(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    text = " ".join(parser.text)
    found = [f"English status « {m} »" for m in ENGLISH_STATUS.findall(text)]
    found += [f"ISO date « {m.group(0)} »" for m in ISO_TIMESTAMP.finditer(text)]
    found += [f"decimal point « {m.group(0)} »" for m in POINT_AMOUNT.finditer(text)]
    found += [
        f"decimal point in a number cell « {c} »" for c in parser.numeric if POINT_NUMBER.search(c)
    ]
    return found


def test_the_checker_catches_what_the_pages_used_to_show() -> None:
    assert problems_of('<td><span class="status signed">signed</span></td>')
    assert problems_of("<p>Le 2026-12-05T04:20:00+00:00</p>")
    assert problems_of('<td class="num">3.5 jour</td>')
    assert problems_of("<p>59.00 € HT</p>")
    assert not problems_of(
        '<p class="status signed">signé le 5 décembre 2026</p><td class="num">3,5 jours</td>'
        "<p>CGV 3.0 · CTR-2026-0001</p>"
    )


def test_the_sales_pages_show_french_words_numbers_and_dates(app: Flask) -> None:
    publish_short_cgv(app)
    client_id = make_client(app)
    lines = [
        LineInput("Formation", Decimal("3.5"), Decimal("59.00"), Decimal("20"), unit="jour"),
        LineInput("Licences", Decimal("12"), Decimal("1234.5"), Decimal("5.5"), unit="licence"),
    ]
    draft_quote = make_quote(app, client_id, lines=lines)
    generated = make_contract(app, make_quote(app, client_id, lines=lines))
    signed = make_contract(app, make_quote(app, client_id, lines=lines))
    sign_through_services(app, send_contract(app, signed))
    invoice_id = make_invoice(app, client_id)

    browser = login_as(app, Role.SALES)
    pages = [
        "/clients/",
        f"/clients/{client_id}",
        f"/devis/{draft_quote}",
        "/contrats/",
        f"/contrats/{generated}",
        f"/contrats/{signed}",
        "/factures/",
        f"/factures/{invoice_id}",
    ]
    report = {}
    for url in pages:
        response = browser.get(url)
        assert response.status_code == 200, (url, response.status_code)
        found = problems_of(response.get_data(as_text=True))
        if found:
            report[url] = found
    assert not report, report
    quote_page = browser.get(f"/devis/{draft_quote}").get_data(as_text=True)
    assert "3,5\u00a0jours" in quote_page and "12\u00a0licences" in quote_page
    contracts = browser.get("/contrats/").get_data(as_text=True)
    assert "généré" in contracts and "signé" in contracts


def test_the_cgv_and_verification_pages_speak_french(app: Flask) -> None:
    from sqlalchemy import select

    from app.signatures.models import SignatureRequest
    from app.terms.models import CgvPreview, CgvVersion
    from tests.factories import runtime, session_of
    from tests.factories.sales import publish_cgv
    from tests.integration.fixtures_security import csrf_of_session
    from tests.integration.helpers import publish_cgv as publish_through_the_form

    publish_short_cgv(app)
    client_id = make_client(app)
    sign_through_services(app, send_contract(app, make_contract(app, make_quote(app, client_id))))
    publish_cgv(app, "# CGV\n\n## Article 1. Objet\n\nLe service, modifié.\n", "3.1", "2024-03-01")
    legal = login_as(app, Role.LEGAL)
    submitted = publish_through_the_form(
        legal,
        {
            "label": "3.2",
            "title": "Conditions générales de vente",
            "effective_date": "2024-06-01",
            "kind": "minor",
            "summary": "",
            "body_markdown": "# CGV\n\n## Article 1. Objet\n\nLe service.\n",
        },
    )
    assert submitted.status_code == 302
    with session_of(app) as session:
        version_ids = session.scalars(select(CgvVersion.id).order_by(CgvVersion.id)).all()
        preview_id = session.scalars(select(CgvPreview.id)).one()
        request = session.scalars(select(SignatureRequest)).one()
        assert request.signed_document is not None
        signed = runtime(app).store.get(request.signed_document.sha256)
    pages = [
        "/cgv/",
        "/cgv/nouvelle",
        f"/cgv/apercus/{preview_id}",
        *(f"/cgv/versions/{v}" for v in version_ids),
        f"/cgv/comparer?de={version_ids[0]}&a={version_ids[-1]}",
        "/cgv/rapport?at=2024-07-01",
    ]
    report = {}
    for url in pages:
        response = legal.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if found := problems_of(response.get_data(as_text=True)):
            report[url] = found
    visitor = app.test_client()
    visitor.get("/verify")
    verified = visitor.post(
        "/verify",
        data={"csrf_token": csrf_of_session(visitor), "document": (io.BytesIO(signed), "c.pdf")},
        content_type="multipart/form-data",
    )
    assert verified.status_code == 200
    if found := problems_of(verified.get_data(as_text=True)):
        report["/verify"] = found
    assert not report, report
