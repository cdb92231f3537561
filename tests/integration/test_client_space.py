"""The client's space: signing in by a mailed link (no enumeration, one use, 30 minutes, a
contact still allowed), what a contact sees and does there, and a matrix proving that a
contact of one client reaches nothing of another's, by any route of the space and any id."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.audit.models import AuditEvent
from app.client_space.models import SpaceLink, SpaceSession
from app.clients.billing_contacts import ContactInput, get_contact, update_contact
from app.clients.models import BillingContact
from app.clients.services import get_client, terminate
from app.clock import business_date
from app.contracts.models import Contract
from app.db import transaction, utcnow
from app.documents.models import Document, DocumentKind
from app.invoices import payments
from app.invoices.issuing import issue_invoice
from app.invoices.models import CreditNote, Invoice
from app.invoices.payments import record_payment
from app.mail.models import OutgoingMailRecord
from app.pricing.lines import LineInput
from app.rendering.french import format_amount
from app.terms.acceptances import ClickThrough
from app.terms.errors import AcceptanceLinkGone
from app.terms.models import AcceptanceMethod, CgvAcceptance, CgvNotification
from app.terms.notifications import accept_through_link
from app.terms.versions import get_version
from tests.conftest import csrf_from
from tests.factories import (
    count,
    deposit_file,
    make_client,
    make_credit_note,
    publish_cgv,
    runtime,
    session_of,
)
from tests.factories.signing import sign_completely
from tests.factories.space import add_billing_contact, notify_cgv, sign_in_token, space_browser
from tests.factories.terms import accept_version
from tests.together import run_together

HOME = "/espace-client/"


def _csrf(browser: FlaskClient) -> str:
    return csrf_from(browser.get(HOME).get_data(as_text=True))


def _expire_links(app: Flask) -> None:
    with transaction(runtime(app).session_factory) as session:
        session.execute(update(SpaceLink).values(expires_at=utcnow() - timedelta(seconds=1)))


def test_the_request_answers_the_same_for_a_known_and_an_unknown_address(app: Flask) -> None:
    client_id = make_client(app)
    add_billing_contact(app, client_id, "compta@client.example")
    browser = app.test_client()
    answers = []
    for address in ("compta@client.example", "inconnu@ailleurs.example", "pas une adresse"):
        csrf = csrf_from(browser.get(HOME).get_data(as_text=True))
        reply = browser.post(
            "/espace-client/connexion", data={"csrf_token": csrf, "email": address}
        )
        answers.append((reply.status_code, reply.get_data(as_text=True)))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 200 and "un lien de connexion vient" in answers[0][1]
    with session_of(app) as session:
        mails = session.scalars(select(OutgoingMailRecord)).all()
        assert [m.recipient for m in mails] == ["compta@client.example"]
        vendor = runtime(app).settings.vendor.legal_name
        assert mails[0].subject == f"{vendor} : votre lien de connexion à l'espace client"
        assert "/espace-client/connexion/" in mails[0].text
        # only the hash of the mailed token is stored
        token = mails[0].text.split("/espace-client/connexion/")[1].split()[0]
        assert session.scalar(select(SpaceLink.token_hash)) != token


def test_the_request_is_rate_limited_per_address(app: Flask) -> None:
    browsers = [app.test_client() for _ in range(4)]
    codes = []
    for n, browser in enumerate(browsers):  # a fresh browser each time: only the address repeats
        csrf = csrf_from(browser.get(HOME).get_data(as_text=True))
        codes.append(
            browser.post(
                "/espace-client/connexion",
                data={"csrf_token": csrf, "email": "cible@client.example"},
                environ_base={"REMOTE_ADDR": f"192.0.2.{n + 1}"},
            ).status_code
        )
    assert codes == [200, 200, 200, 429]


def test_the_request_is_rate_limited_per_ip_whatever_the_address(app: Flask) -> None:
    browser = app.test_client()
    codes = []
    for n in range(6):
        csrf = csrf_from(browser.get(HOME).get_data(as_text=True))
        codes.append(
            browser.post(
                "/espace-client/connexion",
                data={"csrf_token": csrf, "email": f"essai{n}@ailleurs.example"},
            ).status_code
        )
    assert codes == [200] * 5 + [429]


def test_the_signer_reaches_the_space_of_its_client_too(app: Flask) -> None:
    client_id = make_client(app, signer_email="signataire@client.example")
    browser = space_browser(app, "Signataire@Client.example")
    assert "Connecté avec signataire@client.example" in browser.get(HOME).get_data(as_text=True)
    with session_of(app) as session:
        assert session.scalars(select(SpaceSession.client_id)).one() == client_id


def test_a_link_opens_one_session_then_says_it_has_served(app: Flask) -> None:
    client_id = make_client(app)
    add_billing_contact(app, client_id, "compta@client.example")
    token = sign_in_token(app, "compta@client.example")
    browser = app.test_client()
    page = browser.get(f"/espace-client/connexion/{token}")
    csrf = csrf_from(page.get_data(as_text=True))
    assert browser.get(f"/espace-client/connexion/{token}").status_code == 200  # GET spends nothing
    assert (
        browser.post(f"/espace-client/connexion/{token}", data={"csrf_token": csrf}).status_code
        == 302
    )
    assert "Contacts de facturation" in browser.get(HOME).get_data(as_text=True)
    again = browser.post(f"/espace-client/connexion/{token}", data={"csrf_token": csrf})
    assert again.status_code == 410 and "déjà servi" in again.get_data(as_text=True)
    assert count(app, SpaceSession) == 1


def test_an_expired_link_and_a_deactivated_contact_get_a_clear_answer(app: Flask) -> None:
    client_id = make_client(app)
    contact_id = add_billing_contact(app, client_id, "compta@client.example")
    token = sign_in_token(app, "compta@client.example")
    _expire_links(app)
    expired = app.test_client().get(f"/espace-client/connexion/{token}")
    assert expired.status_code == 410 and "a expiré" in expired.get_data(as_text=True)

    token = sign_in_token(app, "compta@client.example")
    signed_in = space_browser(app, "compta@client.example")
    with transaction(runtime(app).session_factory) as session:
        contact = get_contact(session, client_id, contact_id)
        update_contact(
            session,
            contact,
            ContactInput(contact.name, contact.email, active=False),
            now=utcnow(),
            actor="test",
        )
    gone = app.test_client().get(f"/espace-client/connexion/{token}")
    assert gone.status_code == 410 and "plus accès à" in gone.get_data(as_text=True)
    # the session already open closes at its next page
    assert "Recevoir un lien de connexion" in signed_in.get(HOME).get_data(as_text=True)
    assert count(app, SpaceSession) == 1


def test_signing_out_ends_the_session_on_the_server(app: Flask) -> None:
    client_id = make_client(app)
    add_billing_contact(app, client_id, "compta@client.example")
    browser = space_browser(app, "compta@client.example")
    cookie = browser.get_cookie("session")
    assert cookie is not None
    assert (
        browser.post("/espace-client/deconnexion", data={"csrf_token": _csrf(browser)}).status_code
        == 302
    )
    # the cookie from before the logout, replayed: the session row is ended
    replay = app.test_client()
    replay.set_cookie("session", cookie.value)
    assert "Recevoir un lien de connexion" in replay.get(HOME).get_data(as_text=True)
    # and a staff page stays closed to a contact
    signed = space_browser(app, "compta@client.example")
    assert signed.get("/clients/").status_code == 302


def test_a_contact_downloads_its_invoice_accepts_its_cgv_and_edits_its_contacts(
    app: Flask,
) -> None:
    publish_cgv(app, "# Article 1\n\nTexte.\n", label="5.0", effective="2024-01-01")
    client_id = make_client(app)
    add_billing_contact(app, client_id, "compta@client.example")
    make_credit_note(app, client_id)
    version_id = notify_cgv(app, client_id, "5.0")
    browser = space_browser(app, "compta@client.example")

    home = browser.get(HOME).get_data(as_text=True)
    with session_of(app) as session:
        invoice = session.scalars(select(Invoice).where(Invoice.client_id == client_id)).one()
        assert invoice.number in home and "Avoir" in home and "version 5.0" in home
        document = session.get(Document, invoice.document_id)
        assert document is not None
        expected = runtime(app).store.get(document.sha256)
    pdf = browser.get(f"/espace-client/documents/{invoice.document_id}")
    assert pdf.status_code == 200 and pdf.data == expected
    assert pdf.headers["Content-Type"] == "application/pdf"

    url = f"/espace-client/cgv/{version_id}/accepter"
    with session_of(app) as session:
        sha = session.scalars(select(CgvNotification)).one().cgv_version.sha256
    refused = browser.post(url, data={"csrf_token": _csrf(browser), "text_sha256": sha})
    assert refused.status_code == 422 and "Cochez la case" in refused.get_data(as_text=True)
    accepted = browser.post(
        url, data={"csrf_token": _csrf(browser), "text_sha256": sha, "accept": "y"}
    )
    assert accepted.status_code == 302
    twice = browser.post(
        url, data={"csrf_token": _csrf(browser), "text_sha256": sha, "accept": "y"}
    )
    assert twice.status_code == 410 and "déjà été acceptée" in twice.get_data(as_text=True)
    assert "version 5.0 des CGV" not in browser.get(HOME).get_data(as_text=True)
    with session_of(app) as session:
        acceptance = session.scalars(select(CgvAcceptance)).one()
        assert acceptance.person_email == "compta@client.example" and acceptance.ip is not None
        assert session.scalars(select(CgvNotification)).one().link_used_at is not None

    bad = browser.post(
        "/espace-client/contacts",
        data={"csrf_token": _csrf(browser), "name": "", "email": "pas-une-adresse", "active": "y"},
    )
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "Ce champ est obligatoire." in text and "Adresse e-mail invalide" in text
    assert count(app, BillingContact) == 1
    added = browser.post(
        "/espace-client/contacts",
        data={
            "csrf_token": _csrf(browser),
            "name": "Daf",
            "email": "daf@client.example",
            "active": "y",
        },
    )
    assert added.status_code == 302 and count(app, BillingContact) == 2
    with session_of(app) as session:
        actions = {
            (e.action, e.actor)
            for e in session.scalars(select(AuditEvent).where(AuditEvent.client_id == client_id))
        }
    assert ("billing_contact.added", "contact:compta@client.example") in actions
    assert ("client_space.read", "contact:compta@client.example") in actions
    assert ("document.read", "contact:compta@client.example") in actions
    assert ("cgv.accepted", f"client:{client_id}") in actions


def test_after_termination_the_contact_requests_and_downloads_its_archive(app: Flask) -> None:
    client_id = make_client(app)
    add_billing_contact(app, client_id, "compta@client.example")
    browser = space_browser(app, "compta@client.example")
    early = browser.post("/espace-client/restitution", data={"csrf_token": _csrf(browser)})
    assert early.status_code == 409 and "après la résiliation" in early.get_data(as_text=True)

    with transaction(runtime(app).session_factory) as session:
        terminate(
            session,
            get_client(session, client_id),
            on=utcnow().date(),
            reason="Fin du contrat",
            actor="test",
            now=utcnow(),
        )
    assert "Demander l'archive" in browser.get(HOME).get_data(as_text=True)
    asked = browser.post("/espace-client/restitution", data={"csrf_token": _csrf(browser)})
    assert asked.status_code == 302  # built by the job (inline here)
    with session_of(app) as session:
        archive = session.scalars(
            select(Document).where(Document.kind == DocumentKind.RESTITUTION)
        ).one()
    assert f"/espace-client/documents/{archive.id}" in browser.get(HOME).get_data(as_text=True)
    download = browser.get(f"/espace-client/documents/{archive.id}")
    assert download.status_code == 200 and download.data[:2] == b"PK"


def _client_with_everything(app: Flask, email: str) -> dict[str, list[int]]:
    client_id = make_client(app)
    contact_id = add_billing_contact(app, client_id, email)
    make_credit_note(app, client_id)
    docs = [
        deposit_file(app, client_id, kind, f"{kind.value[:6]}-{client_id}").id
        for kind in (
            DocumentKind.SIGNED_CONTRACT,
            DocumentKind.EVIDENCE,
            DocumentKind.RESTITUTION,
            DocumentKind.CONTRACT,  # a draft: never in the space, not even its own
        )
    ]
    with session_of(app) as session:
        invoices = session.scalars(
            select(Invoice.document_id).where(Invoice.client_id == client_id)
        ).all()
        credit_notes = session.scalars(
            select(CreditNote.document_id).where(CreditNote.client_id == client_id)
        ).all()
        docs += [d for d in (*invoices, *credit_notes) if d is not None]
    return {"client": [client_id], "documents": docs, "contacts": [contact_id]}


def test_a_contact_reaches_nothing_of_another_client_by_any_route_or_id(app: Flask) -> None:
    publish_cgv(app, "# Article 1\n\nTexte.\n", label="6.0", effective="2024-01-01")
    mine = _client_with_everything(app, "compta@a.example")
    theirs = _client_with_everything(app, "compta@b.example")
    their_version = notify_cgv(app, theirs["client"][0], "6.0")
    browser = space_browser(app, "compta@a.example")

    own = [browser.get(f"/espace-client/documents/{d}").status_code for d in mine["documents"]]
    assert own == [200, 200, 200, 404, 200, 200]  # the draft contract excepted

    csrf = _csrf(browser)
    answers = {}
    for document_id in theirs["documents"]:
        answers[f"GET document {document_id}"] = browser.get(
            f"/espace-client/documents/{document_id}"
        ).status_code
    for contact_id in theirs["contacts"]:
        answers[f"POST contact {contact_id}"] = browser.post(
            f"/espace-client/contacts/{contact_id}",
            data={"csrf_token": csrf, "name": "Pirate", "email": "pirate@a.example", "active": "y"},
        ).status_code
    answers[f"POST cgv {their_version}"] = browser.post(
        f"/espace-client/cgv/{their_version}/accepter",
        data={"csrf_token": csrf, "text_sha256": "0" * 64, "accept": "y"},
    ).status_code
    assert set(answers.values()) == {404}, answers

    with session_of(app) as session:
        their_contact = session.get(BillingContact, theirs["contacts"][0])
        assert their_contact is not None and their_contact.email == "compta@b.example"
        assert session.scalars(select(CgvAcceptance)).all() == []
        their_numbers = session.scalars(
            select(Invoice.number).where(Invoice.client_id == theirs["client"][0])
        ).all()
    home = browser.get(HOME).get_data(as_text=True)
    assert "compta@b.example" not in home
    assert not any(number in home for number in their_numbers)
    assert "version 6.0" not in home  # their pending version is not offered here


@pytest.mark.committed_db  # twenty browsers on their own connections
def test_twenty_concurrent_uses_of_one_link_open_one_session(app: Flask) -> None:
    client_id = make_client(app)
    add_billing_contact(app, client_id, "compta@client.example")
    token = sign_in_token(app, "compta@client.example")
    url = f"/espace-client/connexion/{token}"
    browsers = [app.test_client() for _ in range(20)]
    forms = [csrf_from(b.get(url).get_data(as_text=True)) for b in browsers]

    def use(n: int) -> tuple[int, str]:
        reply = browsers[n].post(url, data={"csrf_token": forms[n]})
        return reply.status_code, reply.get_data(as_text=True)

    answers = run_together(len(browsers), use)
    codes = sorted(code for code, _ in answers)
    assert codes == [302] + [410] * 19, codes
    assert all("déjà servi" in text for code, text in answers if code == 410)
    assert count(app, SpaceSession) == 1


def test_a_version_accepted_otherwise_is_no_longer_offered_nor_accepted_twice(
    app: Flask,
) -> None:
    publish_cgv(app, "# Article 1\n\nTexte.\n", label="8.0", effective="2024-01-01")
    client_id = make_client(app)
    add_billing_contact(app, client_id, "compta@client.example")
    version_id = notify_cgv(app, client_id, "8.0")
    with transaction(runtime(app).session_factory) as session:
        version = get_version(session, version_id)
        # As the signature of a contract carrying this version records it.
        accept_version(
            session, client_id, version, now=utcnow(), method=AcceptanceMethod.CONTRACT_SIGNATURE
        )
        sha = version.sha256
    browser = space_browser(app, "compta@client.example")
    assert "Accepter la version 8.0" not in browser.get(HOME).get_data(as_text=True)
    again = browser.post(
        f"/espace-client/cgv/{version_id}/accepter",
        data={"csrf_token": _csrf(browser), "text_sha256": sha, "accept": "y"},
    )
    accepted_on = business_date(utcnow()).strftime("%d/%m/%Y")
    already = f"La version 8.0 des CGV est déjà acceptée le {accepted_on}"
    assert again.status_code == 410 and already in again.get_data(as_text=True)
    # The link of the notification mail says so too, on its page and if posted to anyway.
    with session_of(app) as session:
        texts = session.scalars(
            select(OutgoingMailRecord.text).where(
                OutgoingMailRecord.text.contains("/cgv/accepter/")
            )
        ).all()
    (text,) = texts
    link = re.search(r"(/cgv/accepter/[A-Za-z0-9_\-]+)", text).group(1)  # type: ignore[union-attr]
    page = app.test_client().get(link)
    assert page.status_code == 410 and already in page.get_data(as_text=True)
    with pytest.raises(AcceptanceLinkGone), transaction(runtime(app).session_factory) as session:
        accept_through_link(
            session,
            link.rsplit("/", 1)[1],
            version_id=version_id,
            click=ClickThrough(sha, consent=True, ip=None, user_agent=None),
            now=utcnow(),
        )
    assert count(app, CgvAcceptance) == 1


def test_invoices_show_paid_due_and_overdue_with_interest_and_indemnity(app: Flask) -> None:
    client_id = make_client(app)
    add_billing_contact(app, client_id, "compta@client.example")
    now = utcnow()
    with transaction(runtime(app).session_factory) as session:
        client = get_client(session, client_id)
        line = [LineInput("Abonnement", Decimal("1"), Decimal("1000"), Decimal("20"))]
        # issued 61 days ago at 30 days: 31 days late today, whatever today is
        late = issue_invoice(
            session, client=client, lines=line, now=now - timedelta(days=61), actor="t"
        )
        paid = issue_invoice(session, client=client, lines=line, now=now, actor="t")
        due = issue_invoice(session, client=client, lines=line, now=now, actor="t")
        record_payment(
            session,
            invoice=paid,
            amount=Decimal("1200.00"),
            # the business date (Paris), as the invoice's issue date: from 23:00 UTC the UTC
            # date is the day before, and a payment before its invoice is refused
            occurred_on=business_date(now),
            now=now,
            actor="t",
        )
        numbers = late.number, paid.number, due.number
    browser = space_browser(app, "compta@client.example")

    def row(number: str) -> str:
        html = browser.get(HOME).get_data(as_text=True)
        start = html.index(number)
        return re.sub(r"[ \t\n]+", " ", html[start : html.index("</tr>", start)])

    # no reference rate entered yet: said, not an error page
    assert "En retard" in row(numbers[0]) and "taux de référence" in row(numbers[0])
    for kind, rate in (("ecb", "2,15"), ("legal", "3.16")):
        start = (now - timedelta(days=400)).date().isoformat()
        done = app.test_cli_runner().invoke(
            args=["invoices", "rate", "--kind", kind, "--from", start, "--rate", rate]
        )
        assert done.exit_code == 0, done.output
    with session_of(app) as session:
        invoice = session.get(Invoice, late.id)
        assert invoice is not None
        expected = payments.overdue(session, invoice, business_date(utcnow()))
    assert expected is not None
    text = row(numbers[0])
    assert "En retard" in text and f"{expected.days_late} jours de retard" in text
    assert f"intérêts {format_amount(expected.interest)}" in text
    assert "indemnité forfaitaire 40,00" in text
    assert "Payée" in row(numbers[1])
    assert "À payer : 1" in row(numbers[2])


def test_the_space_lists_each_signed_contract_with_its_evidence_files(app: Flask) -> None:
    """One entry per signed contract, named by its number and version, its evidence files
    beside it; the CGV that binds the client said to the client (« vous l'avez acceptée »)."""
    signed = sign_completely(app)
    with transaction(runtime(app).session_factory) as session:
        email = get_client(session, signed.client_id).signer_email
        contract = session.get(Contract, signed.contract_id)
        assert contract is not None
        number = contract.number
    page = html.unescape(space_browser(app, email).get(HOME).get_data(as_text=True))
    contracts = re.search(r'<ul class="signed-contracts">(.*?)</ul>', page, re.S)
    assert contracts, page
    entries = re.findall(r"<li>(.*?)</li>", contracts.group(1), re.S)
    assert len(entries) == 1
    (entry,) = entries
    documents = signed.documents
    assert (
        f'/espace-client/documents/{documents["signed"]}">Contrat {number}, version 1</a>' in entry
    )
    assert "signé le " in entry
    assert f'/espace-client/documents/{documents["evidence_pdf"]}"' in entry
    assert f'/espace-client/documents/{documents["evidence_json"]}"' in entry
    # the raw references of the evidence files are no longer the links' text
    assert "-preuve-json" not in page
    assert "(vous l'avez acceptée)" in page
    assert "acceptée par le client" not in page
