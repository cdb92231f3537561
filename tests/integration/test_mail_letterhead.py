"""Every mail as it leaves: a plain-text part and its HTML alternative (one layout, the
vendor's logo, colour and support address), the vendor and the document in the subject, never
the one-time code there, and a client's name printed as text in the HTML part.

The mails are the real ones, produced by the flows (send for signature, code, signature,
completion, decline, password reset) and delivered by the outbox's job to the outbox folder."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import Message

from flask import Flask
from flask.testing import FlaskClient

from app.auth.models import Role
from app.clock import business_date
from app.config import Settings
from app.db import utcnow
from app.mail import OutgoingMail, build_message
from app.rendering.mail_layout import VendorMailLayout
from app.terms import workflow as cgv_workflow
from app.terms.models import VersionKind
from app.terms.versions import CgvDraft
from tests.conftest import csrf_from
from tests.factories import (
    login_as,
    make_contracted_client,
    make_user,
    publish_short_cgv,
    runtime,
)
from tests.integration.helpers import (
    HOSTILE,
    body_html,
    body_text,
    last_code,
    outbox_messages,
    post_form,
    signing_link,
    subject_of,
)
from tests.integration.test_french_pages import ISO_TIMESTAMP

# A person reads dates in words ("4 septembre 2026"), never as 04/09/2026 or an ISO stamp.
NUMERIC_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")
VENDOR = "Éditeur Démo SAS"


def _send_contract(app: Flask, sales: FlaskClient, contract_id: int) -> None:
    response = post_form(sales, "/", {"order": "sequential"}, f"/contrats/{contract_id}/v1/envoyer")
    assert response.status_code == 302, response.get_data(as_text=True)


def _sign(app: Flask, link: str, to: str) -> FlaskClient:
    signer = app.test_client()
    page = signer.get(link).get_data(as_text=True)
    signer.post(f"{link}/code", data={"csrf_token": csrf_from(page)})
    code = last_code(app.extensions["paraphe"].settings.outbox_dir, to)
    response = signer.post(f"{link}/verifier", data={"csrf_token": csrf_from(page), "code": code})
    assert response.status_code == 302
    page = signer.get(link).get_data(as_text=True)
    response = signer.post(
        link, data={"csrf_token": csrf_from(page), "accept_cgv": "oui", "agree": "oui"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return signer


def _material_cgv() -> CgvDraft:
    return CgvDraft(
        label="9.0",
        title="Conditions générales de vente",
        effective_date=business_date(utcnow()) + timedelta(days=45),
        body_markdown="# CGV\n\n## Article 1. Prix\n\nCent euros par mois.\n",
        summary="Hausse du prix.",
        kind=VersionKind.MATERIAL,
    )


def _all_mails(app: Flask) -> list[Message]:
    return outbox_messages(app.extensions["paraphe"].settings.outbox_dir)


def test_every_mail_has_text_and_html_names_the_vendor_and_never_the_code(
    app: Flask, settings: Settings
) -> None:
    publish_short_cgv(app)
    sales = login_as(app, Role.SALES)
    hostile = make_contracted_client(app, legal_name=HOSTILE, signer_email="zoe@example.fr")
    declined = make_contracted_client(app, signer_email="paul@example.fr")
    _send_contract(app, sales, hostile.contract_id)
    _send_contract(app, sales, declined.contract_id)
    invitations = {m["To"]: m for m in _all_mails(app) if "à signer" in subject_of(m)}
    _sign(app, signing_link(invitations["zoe@example.fr"]), "zoe@example.fr")

    # a decline (the "closed" notice) and a password reset: two more kinds of mail
    paul = app.test_client()
    link = signing_link(invitations["paul@example.fr"])
    page = paul.get(link).get_data(as_text=True)
    paul.post(f"{link}/code", data={"csrf_token": csrf_from(page)})
    code = last_code(settings.outbox_dir, "paul@example.fr")
    paul.post(f"{link}/verifier", data={"csrf_token": csrf_from(page), "code": code})
    page = paul.get(link).get_data(as_text=True)
    paul.post(f"{link}/refuser", data={"csrf_token": csrf_from(page), "reason": "Prix"})
    address = make_user(app, Role.LEGAL, "julie@example.test")
    post_form(app.test_client(), "/mot-de-passe-oublie", {"email": address})
    # the CGV notice, with its acceptance link's end (a material version)
    c = runtime(app).collaborators(utcnow())
    published = cgv_workflow.publish_version(c, _material_cgv(), actor="test").version
    cgv_workflow.notify(c, published.id)

    mails = _all_mails(app)
    subjects = [subject_of(m) for m in mails]
    kinds = (
        "à signer",
        "code pour signer",
        "signé par toutes les parties",
        "refusée",
        "conditions générales",
    )
    for kind in kinds:
        assert any(kind in s for s in subjects), (kind, subjects)
    assert any("mot de passe" in s for s in subjects), subjects
    for message, subject in zip(mails, subjects, strict=True):
        assert message.get_content_type() in {"multipart/alternative", "multipart/mixed"}
        text, html = body_text(message), body_html(message)
        assert text.strip() and "<html" in html, subject
        assert subject.startswith(VENDOR), subject
        assert not re.search(r"\b\d{6}\b", subject), f"a code in the subject: {subject}"
        assert message["Reply-To"] == "support@editeur-demo.fr"
        # the demo logo is an SVG, which mail clients do not display: the name alone heads
        # the mail, and no remote image is fetched (a PNG travels inside: test_mail.py)
        assert "<img" not in html and "/identite/logo" not in html, subject
        for part in (text, html):
            assert not NUMERIC_DATE.search(part), (subject, NUMERIC_DATE.search(part))
            assert not ISO_TIMESTAMP.search(part), (subject, ISO_TIMESTAMP.search(part))
        assert "mailto:support@editeur-demo.fr" in html
        assert "<script>" not in html and "<b>Fils" not in html, subject
    code_mails = [m for m, s in zip(mails, subjects, strict=True) if "code pour signer" in s]
    code_found = re.search(r"est : (\d{6})", body_text(code_mails[0]))
    # the code: in the body only
    assert code_found and code_found.group(1) in body_html(code_mails[0])
    zoe = [m for m in mails if m["To"] == "zoe@example.fr" and "à signer" in subject_of(m)]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;Fils&lt;/b&gt;" in body_html(
        zoe[0]
    )
    assert HOSTILE in body_text(zoe[0])  # the plain text prints the name as typed
    # the invitation names who asks, in its body too (not "son fournisseur")
    assert f"entre {HOSTILE} et {VENDOR} : vous signez pour {HOSTILE}" in body_text(zoe[0])
    assert "Votre signature est attendue sur le contrat " in body_text(zoe[0])
    assert "invité" not in body_text(zoe[0])
    assert body_text(zoe[0]).rstrip().endswith(f"{VENDOR}, par Paraphe (signature électronique)")


def test_layout_turns_a_lone_link_into_a_button_and_escapes_text(settings: Settings) -> None:
    layout = VendorMailLayout(settings.vendor, "https://paraphe.example")
    mail = OutgoingMail(
        to="a@example.fr",
        subject="Contrat C-1 à signer",
        text=(
            "Bonjour <i>A</i>,\nsuite\n\n"
            "https://paraphe.example/signature/abc?x=1&y=2\n\n-- \nParaphe\n"
        ),
    )
    message = build_message(mail, "Paraphe <no-reply@example.fr>", layout)
    html = body_html(message)
    assert "Bonjour &lt;i&gt;A&lt;/i&gt;,<br>suite" in html
    assert 'href="https://paraphe.example/signature/abc?x=1&amp;y=2"' in html
    assert "background:#1f4e8c" in html  # the vendor's colour on the button
    assert "<img" not in html  # the demo logo is an SVG: a text-only header
    assert subject_of(message) == f"{VENDOR} : Contrat C-1 à signer"
    # a subject that already names the vendor is left as written
    named = OutgoingMail(to="a@example.fr", subject=f"{VENDOR} : CGV 4.0", text="x")
    assert subject_of(build_message(named, "p@example.fr", layout)) == f"{VENDOR} : CGV 4.0"


def test_the_admin_page_shows_the_vendor_identity(app: Flask) -> None:
    admin = login_as(app, Role.ADMIN)
    page = admin.get("/admin/utilisateurs").get_data(as_text=True)
    section = page[page.index('id="vendor-identity"') :]
    assert f'id="vendor-name">{VENDOR}<' in section
    assert 'id="vendor-support">support@editeur-demo.fr<' in section
    assert "#1f4e8c" in section and 'src="/identite/logo"' in section
    assert login_as(app, Role.SALES).get("/admin/utilisateurs").status_code == 403
