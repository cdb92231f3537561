"""A refused long form (the quote, the manual invoice) lists every error at its top, in one
response: each entry a link to the field at fault (a line field is ``lines-<i>-<field>``), the
summary announced (role="alert") and focused; on a phone the fields may be far below."""

from __future__ import annotations

import re

from flask import Flask
from lxml import html as lxml_html

from app.auth.models import Role
from app.invoices.models import Invoice
from app.quotes.models import Quote
from tests.factories import count, login_as, make_client
from tests.integration.helpers import issue_invoice_from_page, post_form


def _flat(text: str) -> str:
    """The text as read; its no-break spaces kept (str.split would take them for blanks)."""
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


def _summary(page: str) -> tuple[str, dict[str, str], set[str]]:
    """The summary's heading, its links (target id → text of the entry), and every id of
    the page."""
    tree = lxml_html.fromstring(page)
    summaries = tree.xpath('//*[@id="error-summary"]')
    assert len(summaries) == 1, "no error summary at the top of the refused form"
    summary = summaries[0]
    assert summary.get("role") == "alert"
    assert summary.get("tabindex") == "-1"  # focusable: error-summary.js moves the focus there
    form = tree.xpath("//main//form[@method='post']")[0]
    assert summary.getparent() is form.getparent()
    assert summary.getparent().index(summary) < form.getparent().index(form)  # above the form
    links = {
        a.get("href").removeprefix("#"): _flat(a.getparent().text_content())
        for a in summary.iter("a")
    }
    ids = {element.get("id") for element in tree.iter() if element.get("id")}
    heading = _flat(summary.xpath(".//h2")[0].text_content())
    return heading, links, ids


def test_a_refused_quote_lists_every_error_at_the_top(app: Flask) -> None:
    client_id = make_client(app)
    sales = login_as(app, Role.SALES)
    url = f"/devis/nouveau/{client_id}"
    refused = post_form(
        sales,
        url,
        {
            # line 1: a quantity that is not a number
            "lines-0-designation": "Abonnement Premium",
            "lines-0-quantity": "douze",
            "lines-0-unit_price": "100,00",
            "lines-0-vat_rate": "20",
            # line 2: readable, but without a designation (the service refuses it)
            "lines-1-quantity": "1",
            "lines-1-unit_price": "50,00",
            "lines-1-vat_rate": "20",
            "global_discount_kind": "percent",
            "global_discount_value": "beaucoup",
            "valid_until": "la semaine prochaine",  # refused by the form's own validation
            "plan": "custom",
            "commitment_months": "12",
            "billing_period": "annual",
            "payment_method": "transfer",
            "payment_terms_days": "trente",
            "notice_months": "3",
            "setup_schedule": "50 % avant la mise en service ; 50 % après la mise en service",
            "save": "Enregistrer le devis",
        },
    )
    assert refused.status_code == 422
    heading, links, ids = _summary(refused.get_data(as_text=True))
    assert set(links) == {
        "lines-0-quantity",
        "lines-1-designation",
        "global_discount_value",
        "valid_until",
        "payment_terms_days",
    }, links
    assert set(links) <= ids  # every link leads to a field of the page
    assert heading == "5 erreurs à corriger"
    assert links["lines-0-quantity"].startswith("Ligne 1, Quantité\u00a0: Indiquez une quantité")
    assert links["lines-1-designation"] == (
        "Ligne 2, Désignation\u00a0: La désignation est obligatoire."
    )
    assert links["payment_terms_days"] == (
        "Délai de paiement (jours)\u00a0: Indiquez un nombre entier."
    )
    assert count(app, Quote) == 0


def test_an_unreadable_only_line_is_not_called_missing(app: Flask) -> None:
    sales = login_as(app, Role.SALES)
    refused = post_form(
        sales,
        f"/devis/nouveau/{make_client(app)}",
        {
            "lines-0-designation": "Formation",
            "lines-0-quantity": "trois",
            "lines-0-unit_price": "59",
            "lines-0-vat_rate": "20",
            "save": "Enregistrer le devis",
        },
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    heading, links, _ids = _summary(page)
    assert heading == "1 erreur à corriger"
    assert set(links) == {"lines-0-quantity"}, links
    assert "au moins une ligne" not in page


def test_a_quote_form_shown_for_the_first_time_has_no_summary(app: Flask) -> None:
    sales = login_as(app, Role.SALES)
    page = sales.get(f"/devis/nouveau/{make_client(app)}")
    assert page.status_code == 200
    assert 'id="error-summary"' not in page.get_data(as_text=True)


def test_a_refused_invoice_lists_its_errors_at_the_top(app: Flask) -> None:
    client_id = make_client(app)
    sales = login_as(app, Role.SALES)
    refused = issue_invoice_from_page(sales, client_id, quantity="deux")
    assert refused.status_code == 422
    heading, links, ids = _summary(refused.get_data(as_text=True))
    assert set(links) == {"lines-0-quantity"}, links
    assert set(links) <= ids
    assert heading == "1 erreur à corriger"
    assert count(app, Invoice) == 0
