"""The mails of the invoices, the client's space, the webhooks, the CGV and the accounts,
written as templates (`app/templates/mails/<feature>/`) and sent by their real code paths:
the subject, the plain-text part and the HTML part the transport draws from it, with a
hostile name printed as typed in the text and inert in the HTML."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email.message import Message
from html import unescape

from flask import Flask

from app.auth import workflow as auth_workflow
from app.auth.models import Role
from app.client_space import workflow as space_workflow
from app.config import Settings
from app.db import transaction, utcnow
from app.invoices.models import CreditNote, Invoice
from app.rendering.french import format_amount, format_date
from app.terms import workflow as terms_workflow
from app.terms.acceptances import ClickThrough
from app.terms.models import VersionKind
from app.terms.notifications import accept_through_link
from app.terms.versions import CgvDraft
from app.webhooks import alerts
from app.webhooks.models import WebhookEndpoint
from tests.factories import make_client, make_credit_note, make_fast_user, make_invoice, runtime
from tests.factories.space import add_billing_contact
from tests.factories.webhooks import add_endpoint
from tests.integration.helpers import (
    HOSTILE,
    assert_inert,
    body_html,
    body_text,
    deliver_queued_mails,
    outbox_messages,
    subject_of,
    user_id_of,
)

VENDOR = "Éditeur Démo SAS"
NOW = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
"""The CGV mails' clock: their versions' dates are built around it."""


def _mails_to(app: Flask, to: str) -> list[Message]:
    deliver_queued_mails(app)
    return [m for m in outbox_messages(runtime(app).settings.outbox_dir) if m["To"] == to]


def _no_template_syntax(message: Message) -> None:
    for part in (body_text(message), body_html(message)):
        assert "{{" not in part and "{%" not in part and "{#" not in part


def test_an_invoice_to_a_billing_contact_text_and_html(app: Flask) -> None:
    client_id = make_client(app)
    add_billing_contact(app, client_id, "compta@client.example", HOSTILE)
    invoice_id = make_invoice(app, client_id)
    with runtime(app).session_factory() as session:
        invoice = session.get_one(Invoice, invoice_id)
        number, amount = invoice.number, format_amount(invoice.total_incl_vat)
        issued_on, due_on = format_date(invoice.issued_on), format_date(invoice.due_on)
        method = invoice.payment_method.lower()

    [message] = _mails_to(app, "compta@client.example")

    plain_amount = amount.replace("\u202f", " ").replace("\xa0", " ")
    assert subject_of(message) == (
        f"{VENDOR} : facture {number} de {plain_amount} TTC, à régler avant le "
        + due_on.replace("\xa0", " ")
    )
    space = f"{runtime(app).settings.base_url.rstrip('/')}/espace-client"
    assert body_text(message) == (
        f"Bonjour {HOSTILE},\n\n"
        f"veuillez trouver ci-jointe la facture {number} du {issued_on}, d'un montant de "
        f"{amount} TTC, à régler avant le {due_on} ({method}).\n\n"
        "Le PDF joint est une facture électronique Factur-X : votre logiciel comptable peut "
        "en lire les données directement.\n\n"
        "Vos factures, vos contrats et vos CGV sont aussi dans votre espace client : "
        f"{space}\n\n{VENDOR}\n"
    )
    html = body_html(message)
    assert f"la facture {number} du" in html and "Factur-X" in html and space in html
    assert [p.get_filename() for p in message.walk() if p.get_filename()] == [f"{number}.pdf"]
    assert_inert(message)
    _no_template_syntax(message)


def test_a_credit_note_to_a_billing_contact_text_and_html(app: Flask) -> None:
    client_id = make_client(app)
    add_billing_contact(app, client_id, "compta@client.example", HOSTILE)
    note_id = make_credit_note(app, client_id)
    with runtime(app).session_factory() as session:
        note = session.get_one(CreditNote, note_id)
        number, invoice_number = note.number, note.invoice.number
        amount, issued_on = format_amount(note.total_incl_vat), format_date(note.issued_on)

    message = _mails_to(app, "compta@client.example")[-1]  # its invoice's mail came first

    plain_amount = amount.replace("\u202f", " ").replace("\xa0", " ")
    assert subject_of(message) == f"{VENDOR} : avoir {number} de {plain_amount} TTC"
    text = body_text(message)
    assert text.startswith(
        f"Bonjour {HOSTILE},\n\nveuillez trouver ci-joint l'avoir {number} du {issued_on}, "
        f"d'un montant de {amount} TTC, sur la facture {invoice_number}.\n\n"
        "Le PDF joint est une facture électronique Factur-X"
    )
    assert text.endswith(f"/espace-client\n\n{VENDOR}\n")
    assert f"avoir {number} du" in body_html(message)
    assert_inert(message)
    _no_template_syntax(message)


def test_the_client_space_sign_in_link_text_and_html(app: Flask) -> None:
    make_client(app, legal_name=HOSTILE, signer_email="zoe@example.fr")

    space_workflow.request_sign_in(runtime(app).collaborators(utcnow()), "zoe@example.fr")

    [message] = _mails_to(app, "zoe@example.fr")
    assert subject_of(message) == f"{VENDOR} : votre lien de connexion à l'espace client"
    text = body_text(message)
    link = f"{runtime(app).settings.base_url.rstrip('/')}/espace-client/connexion/"
    assert text.startswith(
        f"Bonjour,\n\nVoici votre lien de connexion à l'espace client d'{VENDOR} pour "
        f"{HOSTILE} :\n\n{link}"
    )
    assert "\n\nIl est valable jusqu'au " in text and " et ne sert qu'une fois.\n" in text
    assert text.endswith(
        "Si vous n'avez pas demandé ce lien, ignorez ce message : personne ne peut entrer "
        f"dans votre espace sans lui.\n\n{VENDOR}\n"
    )
    assert f'href="{link}' in body_html(message)  # the lone link: a button
    # « Éditeur … » after « de »: elided, in the text and in the HTML layout's footer
    assert "de Éditeur" not in text and "de Éditeur" not in body_html(message)
    assert f"Envoyé par Paraphe pour le compte d'{VENDOR}." in unescape(body_html(message))
    assert_inert(message)
    _no_template_syntax(message)


def test_the_failing_webhook_alert_text_and_html(
    settings: Settings, make_app: Callable[[Settings], Flask]
) -> None:
    app = make_app(replace(settings, webhooks_allow_private=True))
    admin = make_fast_user(app, Role.ADMIN, "admin@example.test")
    # What the admin typed as its address, "&" and "<" included, must read as typed.
    url = "http://127.0.0.1:9/hook?source=crm&x=<b>Fils</b>"
    endpoint_id = add_endpoint(app, url).id
    failing_since = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    base_url = runtime(app).settings.base_url
    with transaction(runtime(app).session_factory) as session:
        endpoint = session.get_one(WebhookEndpoint, endpoint_id)
        endpoint.failing_since = failing_since
        assert alerts.tell_admins(session, endpoint, base_url=base_url, now=utcnow()) == 1

    [message] = _mails_to(app, admin)
    assert subject_of(message) == (
        f"{VENDOR} : Webhook en échec : point de réception n° {endpoint_id}"
    )
    assert body_text(message) == (
        f"Bonjour,\n\nLe point de réception de webhooks n° {endpoint_id} ({url}) est en échec "
        "depuis le 5 janvier 2026 à 9\xa0h\xa000 : une livraison n'a reçu aucune réponse 2xx "
        "après toutes ses tentatives (plus de 24 heures).\n\n"
        "Corrigez le récepteur, puis renvoyez les livraisons échouées depuis la page du point "
        f"de réception :\n{base_url}/admin/webhooks/{endpoint_id}\n\n"
        "La prochaine livraison acceptée lève l'alerte. Vous ne recevrez pas d'autre message "
        "pour cet échec.\n"
    )
    html = body_html(message)
    assert "source=crm&amp;x=&lt;b&gt;Fils&lt;/b&gt;" in html and "<b>Fils" not in html
    assert f'href="{base_url}/admin/webhooks/{endpoint_id}"' in html
    _no_template_syntax(message)


def _cgv(label: str, kind: VersionKind, effective: date) -> CgvDraft:
    return CgvDraft(
        label=label,
        title="Conditions Générales de Vente",
        effective_date=effective,
        body_markdown=f"# CGV {label}\n\n## Article 1. Objet\n\nLe service décrit en annexe.\n",
        summary=f"Version {label} : {HOSTILE}",
        kind=kind,
    )


def test_the_cgv_notifications_text_and_html_for_each_case(app: Flask) -> None:
    """A first minor version, which cannot bind a client that accepted no version; a material
    one with its acceptance link, accepted through it; then a minor one that binds; then a
    material one again, while the version accepted before still applies."""
    make_client(app, legal_name=HOSTILE, signer_name="Zoë Martin")
    c = runtime(app).collaborators(NOW)
    effective = NOW.date() + timedelta(days=31)
    base_url = c.settings.base_url
    texts: list[str] = []
    for label, kind in (
        ("1.0", VersionKind.MINOR),
        ("2.0", VersionKind.MATERIAL),
        ("2.1", VersionKind.MINOR),
        ("3.0", VersionKind.MATERIAL),
    ):
        version = terms_workflow.publish_version(c, _cgv(label, kind, effective), actor="t").version
        version_id = version.id
        assert terms_workflow.notify(c, version_id) == terms_workflow.Notified(sent=1)
        message = _mails_to(app, "zoe@example.fr")[-1]
        assert subject_of(message) == (
            f"{VENDOR} : nouvelle version {label} de ses conditions générales de vente"
        )
        text = body_text(message)
        assert text.startswith(
            f"Bonjour Zoë Martin,\n\n{VENDOR} publie la version {label} de ses conditions "
            f"générales de vente, en vigueur à compter du {format_date(effective)} "
            f"(modification {'mineure' if kind is VersionKind.MINOR else 'substantielle'}).\n\n"
            f"Résumé des modifications :\nVersion {label} : {HOSTILE}\n\n"
            f"Le texte intégral (PDF) : {base_url}/cgv/{label}.pdf\n"
            "Empreinte SHA-256 du texte : "
        )
        assert text.endswith(f"\n\n-- \n{VENDOR}\n")
        html = body_html(message)
        assert f"{base_url}/cgv/{label}.pdf" in html
        assert f"publie la version {label} de ses conditions" in html
        assert_inert(message)
        _no_template_syntax(message)
        texts.append(text)
        if kind is VersionKind.MATERIAL:
            token = text.split("/cgv/accepter/", 1)[1].split("\n", 1)[0]
            with transaction(c.session_factory) as session:
                accept_through_link(
                    session,
                    token,
                    version_id=version_id,
                    click=ClickThrough(
                        version.sha256, consent=True, ip="127.0.0.1", user_agent="test"
                    ),
                    now=NOW,
                )

    pending, material, minor, material_again = texts
    assert (
        "\n\nCette modification ne change pas vos obligations : elle vous sera opposable à "
        f"compter du {format_date(effective)}, sans démarche de votre part.\n\n-- \n"
    ) in minor
    assert "/cgv/accepter/" not in minor and "/cgv/accepter/" not in pending
    assert (
        "\n\nCette version modifie des conditions substantielles : elle ne s'appliquera à "
        f"{HOSTILE} qu'après votre acceptation expresse. Pour la lire et l'accepter, ouvrez ce "
        f"lien personnel :\n{base_url}/cgv/accepter/"
    ) in material
    # never accepted any version: none applies meanwhile (the opposable one is the last accepted)
    assert (
        f".\n\nD'ici là, aucune version de ces conditions ne s'applique à {HOSTILE}, qui n'en a "
        "encore accepté aucune.\n\n-- \n"
    ) in material
    assert "continue de s'appliquer" not in material
    assert (
        ".\n\nD'ici là, la dernière version que vous avez acceptée continue de s'appliquer."
        "\n\n-- \n"
    ) in material_again
    assert (
        f"\n\n{HOSTILE} n'a pas encore accepté une version antérieure dont celle-ci reprend "
        "les modifications : elle ne vous sera opposable qu'après votre acceptation (par "
        "exemple à la signature de votre prochain contrat).\n\n-- \n"
    ) in pending


def test_the_account_invitation_and_reset_text_and_html(app: Flask) -> None:
    admin = make_fast_user(app, Role.ADMIN, "admin@example.test")
    collab = runtime(app).collaborators(utcnow())
    base_url = runtime(app).settings.base_url.rstrip("/")

    auth_workflow.invite(
        collab,
        email="lea@example.test",
        full_name=HOSTILE,
        role=Role.SALES,
        acting_id=user_id_of(app, admin),
    )
    auth_workflow.request_password_reset(collab, "lea@example.test")

    invitation, reset = _mails_to(app, "lea@example.test")
    assert subject_of(invitation) == f"{VENDOR} : votre accès à Paraphe"
    text = body_text(invitation)
    assert text.startswith(
        f"Bonjour {HOSTILE},\n\n{VENDOR} vous a ouvert un compte sur Paraphe, son outil de "
        f"devis, de contrats et de signature électronique (rôle : {Role.SALES.label}).\n\n"
        f"Pour choisir votre mot de passe et accéder à votre compte, ouvrez ce lien :\n"
        f"{base_url}/mot-de-passe/"
    )
    assert text.endswith(
        "Passé ce délai, utilisez la page « Mot de passe oublié » avec votre adresse "
        f"lea@example.test.\n\n{VENDOR}\n"
    )
    assert subject_of(reset) == f"{VENDOR} : réinitialisation de votre mot de passe"
    reset_text = body_text(reset)
    assert reset_text.startswith(
        f"Bonjour {HOSTILE},\n\nUne demande de réinitialisation du mot de passe de votre "
        f"compte Paraphe chez {VENDOR} a été faite.\n\nPour choisir un nouveau mot de passe, "
        f"ouvrez ce lien :\n{base_url}/mot-de-passe/"
    )
    assert reset_text.endswith(
        f"ignorez ce message : votre mot de passe actuel reste valable.\n\n{VENDOR}\n"
    )
    for message in (invitation, reset):
        assert f'href="{base_url}/mot-de-passe/' in body_html(message)
        assert_inert(message)
        _no_template_syntax(message)
