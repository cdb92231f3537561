"""The invoice page follows its mails, sent in the background: « Envoi en cours… » while the
PDF is being archived or a mail waits for (or is in) its job, then each mail's result, without
a reload (progress.js polls invoices.mailing_state, which renders the same section); without
JavaScript, a link reloads the page."""

from __future__ import annotations

from html import unescape
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.auth.models import Role
from app.clients.billing_contacts import set_invoices_by_email
from app.clients.services import get_client
from app.db import transaction, utcnow
from app.invoices.workflow import produce_pdfs
from app.mail.models import MailStatus, OutgoingMailRecord
from tests.factories import login_as, make_client, runtime
from tests.factories.invoices import make_invoice
from tests.factories.space import add_billing_contact

CONTACT = "compta@client.example"


def flat(html: str) -> str:
    """The markup unescaped, each run of white space one space: the text as read."""
    return " ".join(unescape(html).split())


def page(browser: FlaskClient, invoice_id: int) -> str:
    response = browser.get(f"/factures/{invoice_id}")
    assert response.status_code == 200
    return flat(response.get_data(as_text=True))


def state(browser: FlaskClient, invoice_id: int) -> dict[str, Any]:
    response = browser.get(f"/factures/{invoice_id}/envoi/etat")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body: dict[str, Any] = response.get_json()
    return body


def set_mails(app: Flask, status: MailStatus, attempts: int = 0) -> None:
    """Every mail of the outbox put in `status`: as a worker leaves it."""
    with transaction(runtime(app).session_factory) as session:
        session.execute(update(OutgoingMailRecord).values(status=status, attempts=attempts))


def mailed_invoice(app: Flask, *, with_pdf: bool = True) -> int:
    client_id = make_client(app)
    add_billing_contact(app, client_id, CONTACT)
    return make_invoice(app, client_id, with_pdf=with_pdf)


def test_before_the_pdf_is_archived_the_page_says_the_send_is_under_way(app: Flask) -> None:
    invoice_id = mailed_invoice(app, with_pdf=False)
    sales = login_as(app, Role.SALES)
    shown = page(sales, invoice_id)
    assert "Envoi en cours…" in shown
    assert "Pas encore d'envoi" not in shown
    assert "dès que son PDF est archivé" in shown
    # the page follows it: the address polled, the script, and a link for a page without it
    assert f'data-progress-url="/factures/{invoice_id}/envoi/etat" data-poll-after="2"' in shown
    assert "progress.js" in shown
    assert f'<a href="/factures/{invoice_id}">actualisez la page</a>' in shown

    polled = state(sales, invoice_id)
    assert (polled["stage"], polled["poll_after"]) == ("sending", 2)
    assert "Envoi en cours…" in flat(polled["html"])

    # the worker archives the PDF and the mail goes: the next poll says so, and stops
    assert produce_pdfs(runtime(app).collaborators(utcnow()), [invoice_id]) == 1
    polled = state(sales, invoice_id)
    assert (polled["stage"], polled["poll_after"]) == ("sent", None)
    html = flat(polled["html"])
    assert f"{CONTACT} : envoyé le " in html
    assert "Envoi en cours" not in html and "actualisez la page" not in html


def test_a_queued_mail_is_shown_under_way_then_sent(app: Flask) -> None:
    invoice_id = mailed_invoice(app)
    set_mails(app, MailStatus.PENDING)
    sales = login_as(app, Role.SALES)
    shown = page(sales, invoice_id)
    assert "Envoi en cours…" in shown
    assert f"{CONTACT} : en attente d'envoi" in shown
    assert 'data-poll-after="2"' in shown

    set_mails(app, MailStatus.SENDING, attempts=1)  # a retry: asked less often
    polled = state(sales, invoice_id)
    assert (polled["stage"], polled["poll_after"]) == ("sending", 15)
    assert f"{CONTACT} : en cours d'envoi" in flat(polled["html"])

    set_mails(app, MailStatus.SENT, attempts=1)
    with runtime(app).session_factory() as session:
        mail = session.scalars(select(OutgoingMailRecord)).one()
        message_id = mail.message_id
    shown = page(sales, invoice_id)
    assert "Envoi en cours" not in shown
    assert f"{CONTACT} : envoyé le " in shown and f"(Message-ID {message_id})" in shown
    # done: nothing polls
    assert "data-progress-url" not in shown.split('id="mail-progress"')[1].split(">")[0]
    assert "progress.js" not in shown
    assert state(sales, invoice_id)["poll_after"] is None


def test_a_failed_mail_is_said_as_an_error_and_nothing_polls(app: Flask) -> None:
    invoice_id = mailed_invoice(app)
    set_mails(app, MailStatus.FAILED, attempts=8)
    sales = login_as(app, Role.SALES)
    shown = page(sales, invoice_id)
    assert "Envoi en cours" not in shown
    assert (
        f'<li class="flash error" role="alert">{CONTACT} : échec de l\'envoi' in shown
        and "après 8 tentatives" in shown
    )
    assert "progress.js" not in shown
    polled = state(sales, invoice_id)
    assert (polled["stage"], polled["poll_after"]) == ("failed", None)
    # The number and its word held together by a no-break space (the `plural` filter).
    assert "après 8\xa0tentatives" in unescape(polled["html"])
    assert "après 8\xa0tentatives" in unescape(sales.get(f"/factures/{invoice_id}").get_data(True))


def test_one_failed_attempt_is_said_in_the_singular(app: Flask) -> None:
    invoice_id = mailed_invoice(app)
    set_mails(app, MailStatus.FAILED, attempts=1)
    sales = login_as(app, Role.SALES)
    assert "après 1 tentative ;" in page(sales, invoice_id)
    assert "après 1\xa0tentative ;" in unescape(state(sales, invoice_id)["html"])


def test_the_other_cases_keep_their_words_and_do_not_poll(app: Flask) -> None:
    sales = login_as(app, Role.SALES)
    # no active contact when the PDF was archived
    alone = make_invoice(app, make_client(app))
    shown = page(sales, alone)
    assert "Aucun envoi : le client n'avait aucun contact de facturation actif" in shown
    assert "Envoi en cours" not in shown and "progress.js" not in shown
    polled = state(sales, alone)
    assert (polled["stage"], polled["poll_after"]) == ("none", None)
    assert "ajoutez un contact de facturation" in flat(polled["html"])

    # a client who receives its invoices another way: nothing is under way, even without PDF
    client_id = make_client(app)
    add_billing_contact(app, client_id, CONTACT)
    with transaction(runtime(app).session_factory) as session:
        client = get_client(session, client_id)
        set_invoices_by_email(session, client, False, now=utcnow(), actor="test")
    invoice_id = make_invoice(app, client_id, with_pdf=False)
    shown = page(sales, invoice_id)
    assert "Ce client ne reçoit pas ses factures par courriel." in shown
    assert "Envoi en cours" not in shown and "progress.js" not in shown
    assert state(sales, invoice_id)["stage"] == "off"
