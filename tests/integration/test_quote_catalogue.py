"""Catalogue, discounts and commercial terms: one set of figures on the web page, the API and
the contract PDF; every bad input is a field error and writes nothing."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html import unescape

from flask import Flask
from pypdf import PdfReader

from app.auth.models import Role, Scope
from app.db import utcnow
from app.numbering.models import NumberSequence
from app.quotes.models import Product, Quote, QuoteLine, SetupFeeInstalment
from tests.factories import (
    VALID_PRODUCT,
    count,
    login_as,
    make_client,
    make_contract,
    make_product,
    make_token,
    publish_short_cgv,
)
from tests.integration.fixtures_security import field_errors, line_cell_errors, logged_in_csrf


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\u00a0", " "))


def test_admin_manages_the_catalogue_with_field_errors(app: Flask) -> None:
    admin = login_as(app, Role.ADMIN)
    token = logged_in_csrf(admin)
    valid = {"csrf_token": token, **VALID_PRODUCT}
    response = admin.post("/devis/catalogue", data=valid)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    page = admin.get("/devis/catalogue").get_data(as_text=True)
    assert "Journée de formation" in page and "650,00" in page

    cases = [
        ({"unit_price": "10,125"}, "unit_price", "2 décimales au maximum (centimes)."),
        ({"unit_price": "-1"}, "unit_price", "Le prix unitaire ne peut pas être négatif."),
        ({"vat_rate": "7"}, "vat_rate", "Taux de TVA non autorisé (20, 10, 5,5, 2,1 ou 0 %)."),
        ({"code": "FORMATION-J"}, "code", "Ce code est déjà utilisé."),
        ({"code": "a b"}, "code", "Lettres, chiffres"),
        ({"unit": ""}, "unit", ""),
    ]
    for changes, field, message in cases:
        data = {**valid, "code": "AUTRE", **changes}
        response = admin.post("/devis/catalogue", data=data)
        assert response.status_code == 422, (changes, response.status_code)
        shown = field_errors(response.get_data(as_text=True))
        assert field in shown and message in shown[field][0], (changes, shown)
    assert count(app, Product) == 1

    # a price change does not touch existing quotes; the product can be withdrawn
    product_id = make_product(app, code="PREMIUM")
    edit = admin.get(f"/devis/catalogue/{product_id}").get_data(as_text=True)
    assert 'value="PREMIUM"' in edit and 'value="Abonnement Premium"' in edit
    assert 'name="csrf_token"' in edit
    response = admin.post(
        f"/devis/catalogue/{product_id}",
        data={**valid, "code": "PREMIUM", "unit_price": "120", "active": ""},
    )
    assert response.status_code == 302
    sales = login_as(app, Role.SALES)
    client_id = make_client(app)
    form = sales.get(f"/devis/nouveau/{client_id}").get_data(as_text=True)
    assert "Journée de formation" in form and "PREMIUM" not in form
    # the default setup-fee schedule reads in French: a no-break space before « ; »
    schedule = re.search(r'name="setup_schedule"[^>]*value="([^"]*)"', form)
    assert schedule is not None
    assert unescape(schedule.group(1)) == (
        "50 % avant la mise en service\u202f; 50 % après la mise en service"
    )


def test_same_figures_on_the_page_the_api_and_the_pdf(app: Flask) -> None:
    publish_short_cgv(app)
    product_id = make_product(app, price="100.00")
    client_id = make_client(app)
    sales = login_as(app, Role.SALES)
    url = f"/devis/nouveau/{client_id}"
    data = {
        "csrf_token": logged_in_csrf(sales),
        # from the catalogue: name, unit, price and VAT come from the product
        "lines-0-product": str(product_id),
        "lines-0-quantity": "12",
        "lines-0-discount_kind": "percent",
        "lines-0-discount_value": "10",
        # a free line with an amount discount
        "lines-1-designation": "Formation <b>sur site</b>",
        "lines-1-quantity": "2",
        "lines-1-unit": "jour",
        "lines-1-unit_price": "650",
        "lines-1-vat_rate": "20",
        "lines-1-discount_kind": "amount",
        "lines-1-discount_value": "100",
        "global_discount_kind": "percent",
        "global_discount_value": "5",
        "plan": "monthly",
        "commitment_months": "12",
        "payment_terms_days": "0",
        "tacit_renewal": "y",
        "notice_months": "1",
        "setup_schedule": "30 % à la signature; 70 % après la mise en service",
        "save": "Enregistrer",
    }
    response = sales.post(url, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    quote_page = unescape(sales.get(response.headers["Location"]).get_data(as_text=True))
    # 12 × 100 − 10 % = 1 080 ; 2 × 650 − 100 = 1 200 ; 2 280 − 5 % (114) = 2 166 ; TVA 433,20
    for figure in ("1 080,00", "1 200,00", "2 280,00", "114,00", "2 166,00", "433,20", "2 599,20"):
        assert figure in flat(quote_page), figure
    assert "Abonnement Premium" in quote_page and "12 mois" in flat(quote_page)
    assert "Engagement initial de 1 mois" in flat(quote_page)  # the monthly preset won

    quote_id = int(response.headers["Location"].rsplit("/", 1)[1])
    api = app.test_client()
    headers = {"Authorization": f"Bearer {make_token(app, Scope.READ)}"}
    body = api.get(f"/api/v1/quotes/{quote_id}", headers=headers).get_json()
    assert [line["total_excl_vat"] for line in body["lines"]] == ["1080.00", "1200.00"]
    assert body["subtotal_excl_vat"] == "2280.00"
    assert body["global_discount"] == {"kind": "percent", "value": "5", "amount": "114.00"}
    assert body["vat_breakdown"] == [{"rate": "20", "base": "2166.00", "vat": "433.20"}]
    assert (body["total_excl_vat"], body["total_incl_vat"]) == ("2166.00", "2599.20")
    assert body["commercial_terms"] == {
        "commitment_months": 1,
        "billing_period": "monthly",
        "payment_method": "direct_debit",
        "payment_terms_days": 0,
        "tacit_renewal": True,
        "notice_months": 1,
        "setup_fee_schedule": [
            {"percent": "30", "milestone": "à la signature"},
            {"percent": "70", "milestone": "après la mise en service"},
        ],
    }
    assert api.get(f"/api/v1/quotes/{quote_id}").status_code == 401
    assert api.get("/api/v1/quotes/999999", headers=headers).status_code == 404

    contract_id = make_contract(app, quote_id)
    pdf = sales.get(f"/contrats/{contract_id}/v1.pdf")
    assert pdf.status_code == 200, pdf.status_code
    text = flat("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages))
    for figure in ("1 080,00", "1 200,00", "2 280,00", "114,00", "2 166,00", "433,20", "2 599,20"):
        assert figure in text, figure
    assert "Formation <b>sur site</b>" in text
    assert "Engagement initial de 1 mois" in text and "prélèvement SEPA" in text
    assert "30 % à la signature" in text and "70 % après la mise en service" in text
    # quantities and units as the quote page prints them (the same formatter)
    assert "2 jours" in flat(quote_page) and "2 jours" in text and "2 jour " not in text
    # the global discount's rate too, as on the quote page
    assert "Remise globale (5 %)" in flat(quote_page) and "Remise globale (5 %)" in text


def test_bad_quote_input_is_a_field_error_and_writes_nothing(app: Flask) -> None:
    client_id = make_client(app)
    sales = login_as(app, Role.SALES)
    url = f"/devis/nouveau/{client_id}"
    base = {
        "csrf_token": logged_in_csrf(sales),
        "lines-0-designation": "Abonnement",
        "lines-0-quantity": "1",
        "lines-0-unit_price": "100",
        "lines-0-vat_rate": "20",
        "save": "Enregistrer",
    }
    yesterday = (utcnow() - timedelta(days=2)).date().isoformat()
    line_cases = [
        (
            {"lines-0-discount_kind": "percent", "lines-0-discount_value": "101"},
            "lines-0-discount_value",
            "Une remise ne peut pas dépasser 100 %.",
        ),
        (
            {"lines-0-discount_kind": "amount", "lines-0-discount_value": "100,01"},
            "lines-0-discount_value",
            "La remise dépasse le montant auquel elle s'applique.",
        ),
        (
            {"lines-0-discount_kind": "amount", "lines-0-discount_value": "dix"},
            "lines-0-discount_value",
            "Indiquez une remise",
        ),
        ({"lines-0-product": "999999"}, "lines-0-product", "Produit inconnu"),
    ]
    for changes, field, message in line_cases:
        response = sales.post(url, data={**base, **changes})
        assert response.status_code == 422, (changes, response.status_code)
        shown = line_cell_errors(response.get_data(as_text=True))
        assert message in shown.get(field, [""])[0], (changes, shown)
    form_cases = [
        ({"valid_until": yesterday}, "valid_until", "le devis serait déjà expiré"),
        (
            {"global_discount_kind": "amount", "global_discount_value": "150"},
            "global_discount_value",
            "La remise dépasse le montant",
        ),
        (
            {"global_discount_kind": "percent", "global_discount_value": "120"},
            "global_discount_value",
            "100 %",
        ),
        ({"setup_schedule": "50 % avant; 40 % après"}, "setup_schedule", "font 100 %"),
        ({"setup_schedule": "moitié avant"}, "setup_schedule", "Écrivez"),
        ({"plan": "custom", "commitment_months": "0"}, "commitment_months", "Engagement de 1"),
        ({"plan": "custom", "commitment_months": "18"}, "billing_period", "multiple"),
        ({"payment_terms_days": "90"}, "payment_terms_days", "L441-10"),
        ({"notice_months": "trois"}, "notice_months", "nombre entier"),
        ({"notice_months": "²"}, "notice_months", "nombre entier"),
    ]
    for changes, field, message in form_cases:
        response = sales.post(url, data={**base, **changes})
        assert response.status_code == 422, (changes, response.status_code)
        shown = field_errors(response.get_data(as_text=True))
        assert message in " ".join(shown.get(field, [])), (changes, shown)
    assert count(app, Quote) == 0 and count(app, QuoteLine) == 0
    assert count(app, SetupFeeInstalment) == 0
    # no number was taken by a refusal
    used = NumberSequence.series == "DEV", NumberSequence.last_value > 0
    assert count(app, NumberSequence, *used) == 0
