"""The sales dashboard on the home page: what waits for someone (signatures and on whom, links
expiring within 3 days, refusals with their reason, contracts to countersign, seals that
failed, overdue invoices), recent activity, and search by client, quote or contract number."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.auth.models import Role
from app.clock import business_date
from app.contracts.models import Contract
from app.contracts.printing import Countersigner
from app.db import transaction, utcnow
from app.invoices.models import Invoice
from app.quotes.models import Quote
from app.signatures.models import SignatureRequest, Signer
from tests.conftest import csrf_from
from tests.factories import runtime
from tests.factories.invoices import make_invoice
from tests.factories.people import login_as
from tests.factories.sales import make_client, make_contract, make_quote, publish_short_cgv
from tests.factories.signing import send_contract, sign_through_services
from tests.integration.helpers import authenticate
from tests.integration.test_french_pages import problems_of

VENDOR = Countersigner(name="Søren Ødegård", email="soren@vendor.example")


def panel(page: str, panel_id: str) -> str:
    """The visible text of one dashboard panel."""
    match = re.search(rf'<section[^>]*id="{panel_id}".*?</section>', page, re.S)
    assert match, f"no panel {panel_id}"
    text = re.sub(r"<[^>]+>", " ", match.group(0))
    return re.sub(r"\s+", " ", html.unescape(text)).replace("\u00a0", " ").strip()


def _contract(app: Flask, legal_name: str, countersigner: Countersigner | None = None) -> int:
    client_id = make_client(app, legal_name=legal_name)
    return make_contract(app, make_quote(app, client_id), countersigner)


def _number(app: Flask, contract_id: int) -> str:
    with transaction(runtime(app).session_factory) as session:
        contract = session.get(Contract, contract_id)
        assert contract is not None
        return contract.number


def _set(app: Flask, statement: object) -> None:
    with transaction(runtime(app).session_factory) as session:
        session.execute(statement)  # type: ignore[call-overload]


@dataclass(frozen=True)
class Board:
    waiting: str  # contract numbers
    expiring: str
    countersign: str
    declined: str
    seal_failed: str
    overdue_invoice: str
    quiet: str  # signed and sealed: in no panel


@pytest.fixture
def board(app: Flask) -> Board:
    publish_short_cgv(app)
    waiting = _contract(app, "Attente SARL")
    send_contract(app, waiting)

    expiring = _contract(app, "Bientôt Expiré SAS")
    send_contract(app, expiring)
    soon = utcnow() + timedelta(days=2)
    with transaction(runtime(app).session_factory) as session:
        number = session.get(Contract, expiring)
        assert number is not None
        request_ids = [r.id for r in session.scalars(select(SignatureRequest))]
    _set(
        app,
        update(Signer).where(Signer.request_id == max(request_ids)).values(token_expires_at=soon),
    )

    countersign = _contract(app, "Contreseing SA", VENDOR)
    sign_through_services(app, send_contract(app, countersign))

    declined = _contract(app, "Refus & Cie")
    link = send_contract(app, declined)
    browser = app.test_client()
    authenticate(app, browser, link, "zoe@example.fr")
    token = csrf_from(browser.get(link).get_data(as_text=True))
    refused = browser.post(
        f"{link}/refuser", data={"csrf_token": token, "reason": "Le tarif a changé"}
    )
    assert refused.status_code == 200, refused.get_data(as_text=True)[:300]

    seal_failed = _contract(app, "Cachet Raté SARL")
    sign_through_services(app, send_contract(app, seal_failed))
    with transaction(runtime(app).session_factory) as session:
        failed_request = max(r.id for r in session.scalars(select(SignatureRequest)))
    _set(
        app,
        update(SignatureRequest)
        .where(SignatureRequest.id == failed_request)
        .values(sealed_at=None, seal_attempts=2, seal_error="horodatage indisponible"),
    )

    quiet = _contract(app, "Tranquille SAS")
    sign_through_services(app, send_contract(app, quiet))

    invoice_id = make_invoice(app, make_client(app, legal_name="Retard de Paiement SA"))
    _set(
        app,
        update(Invoice)
        .where(Invoice.id == invoice_id)
        .values(due_on=business_date(utcnow()) - timedelta(days=10)),  # days late count in Paris
    )
    with transaction(runtime(app).session_factory) as session:
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None
        overdue_number = invoice.number
    return Board(
        waiting=_number(app, waiting),
        expiring=_number(app, expiring),
        countersign=_number(app, countersign),
        declined=_number(app, declined),
        seal_failed=_number(app, seal_failed),
        overdue_invoice=overdue_number,
        quiet=_number(app, quiet),
    )


def test_the_dashboard_shows_what_needs_action_now(app: Flask, board: Board) -> None:
    page = login_as(app, Role.SALES).get("/").get_data(as_text=True)

    waiting = panel(page, "waiting")
    assert board.waiting in waiting and "Attente SARL" in waiting
    assert "attend Zoë Martin (invité)" in waiting
    assert board.countersign not in waiting  # the client has signed: the vendor's turn

    expiring = panel(page, "expiring")
    assert board.expiring in expiring and board.waiting not in expiring  # 30-day link

    assert board.countersign in panel(page, "to-countersign")
    assert "Søren Ødegård" in panel(page, "to-countersign")

    declined = panel(page, "declined")
    assert board.declined in declined and "Le tarif a changé" in declined
    assert "Zoë Martin" in declined

    failed = panel(page, "seal-failures")
    assert board.seal_failed in failed and "horodatage indisponible" in failed
    assert "2 tentatives" in failed

    overdue = panel(page, "overdue")
    assert board.overdue_invoice in overdue and "10 jours" in overdue and "€ TTC" in overdue

    for panel_id in ("waiting", "expiring", "to-countersign", "declined", "seal-failures"):
        assert board.quiet not in panel(page, panel_id)

    activity = panel(page, "activity")
    assert "Facture émise" in activity and "Envoyé pour signature" in activity
    assert "user.login" not in activity and "signature." not in activity
    assert not problems_of(page)  # French words, numbers and dates throughout


def test_search_by_client_name_quote_number_and_contract_number(app: Flask, board: Board) -> None:
    browser = login_as(app, Role.SALES)
    by_name = panel(browser.get("/?q=refus").get_data(as_text=True), "search-results")
    assert "Refus & Cie" in by_name and "Attente SARL" not in by_name

    by_contract = panel(
        browser.get(f"/?q={board.countersign}").get_data(as_text=True), "search-results"
    )
    assert f"Contrat : {board.countersign}" in by_contract

    with transaction(runtime(app).session_factory) as session:
        quote_number = session.scalars(select(Quote.number).order_by(Quote.id)).first()
    assert quote_number is not None
    by_quote = panel(browser.get(f"/?q={quote_number}").get_data(as_text=True), "search-results")
    assert f"Devis : {quote_number}" in by_quote

    nothing = panel(browser.get("/?q=%25_inexistant").get_data(as_text=True), "search-results")
    assert "Aucun client, devis ni contrat ne correspond." in nothing


def test_each_role_sees_what_it_may(app: Flask, board: Board) -> None:
    legal = login_as(app, Role.LEGAL).get("/").get_data(as_text=True)
    assert board.waiting in panel(legal, "waiting")
    assert 'id="overdue"' not in legal  # legal does not see invoices
    admin = login_as(app, Role.ADMIN).get("/").get_data(as_text=True)
    assert 'id="waiting"' not in admin and "Utilisateurs" in admin


def test_search_ignores_accents_case_and_spaces_and_reads_city_and_signer(app: Flask) -> None:
    """« dupre » finds « Dupré », a SIREN typed with spaces (as the client form accepts it)
    finds the client, and so do its city and its signer's name, on either database."""
    make_client(
        app,
        legal_name="Dupré Frères",
        siren="443061841",
        vat_number="FR64443061841",
        city="Besançon",
        signer_name="Hélène Marchal",
    )
    make_client(app, legal_name="Autre Maison", city="Lyon", signer_name="Zoë Martin")
    browser = login_as(app, Role.SALES)
    for query in ("dupre", "DUPRÉ", "dupré  frères", "443 061 841", "besancon", "helene"):
        found = panel(browser.get(f"/?q={query}").get_data(as_text=True), "search-results")
        assert "Dupré Frères" in found and "Autre Maison" not in found, query
    nothing = panel(browser.get("/?q=dupree").get_data(as_text=True), "search-results")
    assert "Aucun client, devis ni contrat ne correspond." in nothing
