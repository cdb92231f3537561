"""The manual invoice form: issue a one-off invoice; refused input shows errors, issues nothing."""

from __future__ import annotations

from flask import Flask

from app.auth.models import Role
from app.invoices.models import Invoice
from tests.factories import count, login_as, make_client
from tests.integration.fixtures_security import line_cell_errors
from tests.integration.helpers import post_form


def _data(client_id: int, **lines: str) -> dict[str, str]:
    return {
        "client_id": str(client_id),
        "contract_id": "0",
        "payment_terms_days": "30",
        "payment_method": "Virement bancaire",
        "lines-0-designation": "Journée de formation <b>sur site</b>",
        "lines-0-quantity": "2",
        "lines-0-unit_price": "900,00",
        "lines-0-vat_rate": "20",
        "issue": "Émettre la facture",
        **lines,
    }


def test_sales_issue_a_manual_invoice(app: Flask) -> None:
    client_id = make_client(app)
    browser = login_as(app, Role.SALES)
    response = post_form(
        browser,
        "/factures/nouvelle",
        _data(
            client_id,
            **{
                "lines-1-designation": "Remise",
                "lines-1-quantity": "1",
                "lines-1-unit_price": "-100",
                "lines-1-vat_rate": "20",
            },
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "FAC-20" in page and "2\u202f040,00" in page
    assert "&lt;b&gt;sur site&lt;/b&gt;" in page  # hostile text stays inert
    assert "Factures" in browser.get("/factures/").get_data(as_text=True)
    pdf = browser.get(response.headers["Location"] + "/pdf")  # rendered and archived
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")


def test_refused_input_shows_errors_and_issues_nothing(app: Flask) -> None:
    client_id = make_client(app)
    browser = login_as(app, Role.ADMIN)
    bad_vat = post_form(
        browser, "/factures/nouvelle", _data(client_id, **{"lines-0-vat_rate": "19.6"})
    )
    assert bad_vat.status_code == 422
    assert (
        "Taux de TVA non autorisé"
        in line_cell_errors(bad_vat.get_data(as_text=True))["lines-0-vat_rate"][0]
    )
    negative = post_form(
        browser, "/factures/nouvelle", _data(client_id, **{"lines-0-unit_price": "-5"})
    )
    assert negative.status_code == 422
    assert "émettez un avoir" in negative.get_data(as_text=True)
    late = post_form(
        browser, "/factures/nouvelle", _data(client_id, **{"payment_terms_days": "90"})
    )
    assert late.status_code == 422
    assert count(app, Invoice) == 0
