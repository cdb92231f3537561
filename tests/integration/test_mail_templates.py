"""The overdue-invoice reminder and the archive's mails, written as templates
(`app/templates/mails/invoices/`, `app/templates/mails/archive/`): what the recipient reads in
the plain-text part and in the HTML part the transport draws from it, and a hostile client
name printed as typed in the text and inert in the HTML."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from email.message import Message

from flask import Flask

from app.archive import workflow as archive_workflow
from app.archive.mails import deletion_certificate_mail
from app.db import transaction, utcnow
from app.invoices import issuing, jobs, payments
from app.invoices.models import RateKind
from app.mail import Attachment
from tests.factories import make_client, make_invoice, runtime
from tests.integration.helpers import (
    HOSTILE,
    INERT,
    assert_inert,
    body_html,
    body_text,
    outbox_messages,
    subject_of,
)

VENDOR = "Éditeur Démo SAS"


def _only_mail(app: Flask) -> Message:
    [message] = outbox_messages(runtime(app).settings.outbox_dir)
    return message


def test_overdue_reminder_text_and_html(app: Flask) -> None:
    rt = runtime(app)
    invoice_id = make_invoice(app, make_client(app, legal_name=HOSTILE), with_pdf=False)
    with transaction(rt.session_factory) as session:
        for kind in (RateKind.ECB, RateKind.LEGAL):
            payments.set_reference_rate(
                session, kind=kind, effective_from=date(2000, 1, 1), rate=Decimal("3"), now=utcnow()
            )
        invoice = issuing.get_invoice(session, invoice_id)
        number, issued_on, due_on = invoice.number, invoice.issued_on, invoice.due_on
        amount = invoice.total_incl_vat

    # The data are built around the invoice's own dates: 20 days after its due date.
    sent = jobs.send_reminders(
        rt.session_factory, rt.mailer, as_of=due_on + timedelta(days=20), now=utcnow()
    )

    assert sent == [f"Relance : facture {number} impayée"]
    message = _only_mail(app)
    assert subject_of(message) == f"{VENDOR} : Relance : facture {number} impayée"
    text = body_text(message)
    assert text.startswith("Bonjour,\n\nSauf erreur de notre part, la facture ")
    issued_words = f"{issued_on.day}" if issued_on.day != 1 else "1er"
    assert f"la facture {number} du {issued_words} " in text
    assert "reste impayée : " in text and "TTC (20 jours de retard)." in text
    assert f"{amount:.2f}".replace(".", ",") in text.replace("\u202f", "")
    assert "au taux annuel de 13\xa0%" in text  # ECB 3 + 10 points
    assert "l'indemnité forfaitaire pour frais de recouvrement de 40,00\xa0€." in text
    assert "Merci de procéder au règlement de " in text
    assert "{{" not in text and "{%" not in text
    html = body_html(message)
    assert f"la facture {number} du" in html and "reste impayée" in html
    assert "Merci de procéder au règlement de " in html
    assert HOSTILE not in text and "Fils" not in html  # the reminder does not name the client


def test_restitution_invitation_text_and_html(app: Flask) -> None:
    client_id = make_client(app, legal_name=HOSTILE, signer_email="zoe@example.fr")
    collab = runtime(app).collaborators(utcnow())

    invitation = archive_workflow.invite_contact(
        collab, client_id, actor="t", request_url=lambda token: f"https://x.example/r/{token}"
    )

    assert invitation.mail_sent_to == "zoe@example.fr"
    message = _only_mail(app)
    assert subject_of(message) == f"{VENDOR} : Restitution de vos documents — {HOSTILE}"
    text = body_text(message)
    assert text.startswith(
        f"Bonjour,\n\nPour recevoir l'archive de tous les documents de {HOSTILE} (contrats, "
        "contrats signés, preuves, CGV, factures), ouvrez ce lien :\n\nhttps://x.example/r/"
    )
    assert "\n\nIl est valable jusqu'au " in text
    html = body_html(message)
    assert 'href="https://x.example/r/' in html  # the lone link: a button
    assert "<title>" in html and INERT in html.split("<title>", 1)[1].split("</title>", 1)[0]
    assert_inert(message)


def test_restitution_ready_text_and_html(app: Flask) -> None:
    client_id = make_client(app, legal_name=HOSTILE, signer_email="zoe@example.fr")
    make_invoice(app, client_id)  # a document to restitute
    collab = runtime(app).collaborators(utcnow())

    delivery = archive_workflow.request_restitution(
        collab, client_id, actor="t", download_url=lambda token: f"https://x.example/d/{token}"
    )

    assert delivery.mail_sent_to == "zoe@example.fr"
    message = _only_mail(app)
    assert subject_of(message) == (f"{VENDOR} : Votre archive de restitution est prête — {HOSTILE}")
    text = body_text(message)
    assert text.startswith(
        f"Bonjour,\n\nL'archive de restitution de {HOSTILE} est prête. Téléchargez-la ici :"
        f"\n\n{delivery.download_url}\n\nLe lien est valable jusqu'au "
    )
    assert "Le fichier LISEZMOI.txt de l'archive explique comment vérifier l'empreinte" in text
    html = body_html(message)
    assert f'href="{delivery.download_url}"' in html and "LISEZMOI.txt" in html
    assert_inert(message)


def test_deletion_certificate_text_html_and_attachment(app: Flask) -> None:
    rt = runtime(app)
    pdf = b"%PDF-1.7 certificate"

    rt.mailer.send(
        deletion_certificate_mail(
            "zoe@example.fr", HOSTILE, VENDOR, Attachment("certificat.pdf", "application/pdf", pdf)
        )
    )

    message = _only_mail(app)
    assert subject_of(message) == f"{VENDOR} : Certificat de suppression de vos données — {HOSTILE}"
    text = body_text(message)
    assert text == (
        "Bonjour,\n\nConformément à nos conditions générales, les données de "
        f"{HOSTILE} arrivées au terme de leur durée de conservation ont été supprimées. Le "
        "certificat joint liste les documents supprimés (avec leur empreinte SHA-256) et ceux "
        f"que la loi nous impose de conserver, avec le motif.\n\n{VENDOR}\n"
    )
    [attached] = [p for p in message.walk() if p.get_filename() == "certificat.pdf"]
    assert attached.get_payload(decode=True) == pdf
    html = body_html(message)
    assert "le motif." in html
    assert_inert(message)
    vowel = deletion_certificate_mail(
        "a@example.fr", "Atelier Brun", VENDOR, Attachment("c.pdf", "application/pdf", pdf)
    )
    assert "les données d'Atelier Brun arrivées au terme" in vowel.text
