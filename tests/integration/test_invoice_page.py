"""The invoice page as an accountant uses it: its two forms (payment, avoir) each with their
own ids, the payments recorded listed, the payment date offered as today's (Paris) date, and
a refused payment answered on the page itself (422) with every problem on its field."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser

import time_machine
from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Role
from app.invoices.models import PaymentEvent
from tests.factories import count, login_as, make_client, make_invoice
from tests.integration.helpers import post_form


class _Ids(HTMLParser):
    """Every id of the page; each <label for>, and each field's id, with the form it is in."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.labels: list[tuple[str, int | None]] = []
        self.fields: dict[str, int | None] = {}
        self._forms = 0
        self._form: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self._forms += 1
            self._form = self._forms
        if (id_ := values.get("id")) is not None:
            self.ids.append(id_)
            if tag in ("input", "select", "textarea"):
                self.fields[id_] = self._form
        if tag == "label" and (target := values.get("for")) is not None:
            self.labels.append((target, self._form))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def _page(browser: FlaskClient, invoice_id: int) -> str:
    response = browser.get(f"/factures/{invoice_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _pay(browser: FlaskClient, invoice_id: int, fields: dict[str, str]) -> tuple[int, str]:
    response = post_form(
        browser, f"/factures/{invoice_id}", fields, url=f"/factures/{invoice_id}/paiement"
    )
    return response.status_code, unescape(response.get_data(as_text=True))


def test_each_form_has_its_own_ids_and_each_label_its_own_field(app: Flask) -> None:
    invoice_id = make_invoice(app, make_client(app))
    parsed = _Ids()
    parsed.feed(_page(login_as(app, Role.SALES), invoice_id))

    duplicated = [id_ for id_, n in Counter(parsed.ids).items() if n > 1]
    assert duplicated == []
    assert len(parsed.labels) >= 8  # the payment form's and the avoir form's
    for target, form in parsed.labels:
        assert target in parsed.fields, target
        assert parsed.fields[target] == form, target


def test_the_client_siren_is_grouped_on_one_line(app: Flask) -> None:
    invoice_id = make_invoice(app, make_client(app))
    page = unescape(_page(login_as(app, Role.SALES), invoice_id))
    assert "(SIREN\u00a0552\u00a0100\u00a0554)" in page  # as the invoice PDF prints it


@time_machine.travel(datetime(2026, 3, 31, 23, 30, tzinfo=UTC))  # 1 April in Paris
def test_the_payment_date_is_today_in_paris_by_default(app: Flask) -> None:
    invoice_id = make_invoice(app, make_client(app))
    page = _page(login_as(app, Role.SALES), invoice_id)
    field = page.split('id="occurred_on"')[1].split(">")[0]
    assert 'value="2026-04-01"' in field, field


def test_the_payments_recorded_are_listed(app: Flask) -> None:
    invoice_id = make_invoice(app, make_client(app))  # 1 080 € TTC, issued 5 January 2026
    browser = login_as(app, Role.SALES)
    assert 'id="payments"' not in _page(browser, invoice_id)

    for day, amount in (("2026-01-20", "300,00"), ("2026-02-03", "180,00")):
        fields = {"kind": "payment", "amount": amount, "occurred_on": day}
        status, _ = _pay(browser, invoice_id, fields)
        assert status == 302
    status, _ = _pay(
        browser, invoice_id, {"kind": "failed", "occurred_on": "2026-02-10", "charge_fee": "y"}
    )
    assert status == 302

    page = " ".join(unescape(_page(browser, invoice_id)).split())
    table = page.split('id="payments"')[1].split("</table>")[0]
    rows = table.split("<tr>")[2:]
    assert len(rows) == 3
    assert "20 janvier 2026" in rows[0] and "300,00 €" in rows[0] and "Paiement reçu" in rows[0]
    assert "3 février 2026" in rows[1] and "180,00 €" in rows[1]
    assert "10 février 2026" in rows[2] and "Prélèvement rejeté" in rows[2]
    assert "frais de rejet refacturés" in rows[2]
    assert "600,00 €" in page.split('id="amount-due"')[1][:40]


def test_a_refused_payment_names_every_problem_on_its_field(app: Flask) -> None:
    invoice_id = make_invoice(app, make_client(app))
    browser = login_as(app, Role.SALES)

    status, page = _pay(browser, invoice_id, {"kind": "payment", "amount": "", "occurred_on": ""})
    assert status == 422
    assert "Indiquez l'événement et sa date" not in page
    assert 'id="occurred_on-error">Indiquez la date du paiement' in page
    assert 'id="payment-amount-error">Indiquez le montant reçu' in page

    status, page = _pay(
        browser, invoice_id, {"kind": "payment", "amount": "100,00", "occurred_on": "2026-01-04"}
    )
    assert status == 422
    assert 'id="occurred_on-error">' in page and "avant la date d'émission de la facture" in page
    assert "5 janvier 2026" in page.split('id="occurred_on-error">')[1].split("</p>")[0]
    assert 'value="100,00"' in page  # what was typed is kept

    status, page = _pay(
        browser, invoice_id, {"kind": "payment", "amount": "5000", "occurred_on": "2026-01-01"}
    )
    assert status == 422
    assert 'id="occurred_on-error">' in page and 'id="payment-amount-error">' in page
    assert "dépasse le reste dû" in page

    status, _ = _pay(browser, invoice_id, {"kind": "failed", "occurred_on": "2025-12-31"})
    assert status == 422
    assert count(app, PaymentEvent) == 0

    # On the day of issue: accepted.
    status, _ = _pay(
        browser, invoice_id, {"kind": "payment", "amount": "100,00", "occurred_on": "2026-01-05"}
    )
    assert status == 302
    assert count(app, PaymentEvent) == 1


def test_a_refused_avoir_does_not_fill_the_payment_form(app: Flask) -> None:
    invoice_id = make_invoice(app, make_client(app))
    browser = login_as(app, Role.SALES)
    response = post_form(
        browser,
        f"/factures/{invoice_id}",
        {"mode": "partial", "reason": "Geste", "designation": "", "amount": "77,00"},
        url=f"/factures/{invoice_id}/avoir",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    credit = page.split('id="credit-amount"')[1].split(">")[0]
    paid = page.split('id="payment-amount"')[1].split(">")[0]
    assert 'value="77,00"' in credit, credit
    assert 'value=""' in paid, paid
