"""Only the client's signers consent to the CGV (issue 12).

The CGV are the vendor's own terms: its countersigner is not asked to accept them (no checkbox
on its signing page), no acceptance is recorded for it, and the evidence file states what
each signer consented to.
"""

from __future__ import annotations

import io
import json

from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from app.auth.models import Role
from app.signatures.models import SignatureRequest
from app.terms.models import CgvAcceptance
from tests.conftest import csrf_from
from tests.factories import login_as, make_client, make_quote, publish_short_cgv, session_of
from tests.integration.fixtures_security import iter_outbox_links, logged_in_csrf
from tests.integration.helpers import authenticate

CGV_SENTENCE = (
    "J'ai lu et j'accepte les conditions générales de vente, version 3.0 du 1er janvier 2024."
)
CLIENT_EMAIL = "zoe@example.fr"
VENDOR_EMAIL = "sales@example.test"  # the sales user who generated the contract countersigns


def sign_page(app: Flask, link: str, email: str) -> tuple[FlaskClient, str]:
    browser = app.test_client()
    authenticate(app, browser, link, email)
    return browser, browser.get(link).get_data(as_text=True)


def test_only_the_client_signer_accepts_the_cgv(app: Flask) -> None:
    publish_short_cgv(app)
    quote_id = make_quote(app, make_client(app))
    sales = login_as(app, Role.SALES)
    generated = sales.post(
        f"/contrats/generer/{quote_id}", data={"csrf_token": logged_in_csrf(sales)}
    )
    assert generated.status_code == 302
    contract_url = generated.headers["Location"]
    sent = sales.post(f"{contract_url}/v1/envoyer", data={"csrf_token": logged_in_csrf(sales)})
    assert sent.status_code == 302

    # the client's signer is asked to accept the CGV and cannot sign without it
    (client_link,) = iter_outbox_links(app)
    client, page = sign_page(app, client_link, CLIENT_EMAIL)
    assert 'name="accept_cgv"' in page and CGV_SENTENCE in page.replace("&#39;", "'")
    refused = client.post(client_link, data={"csrf_token": csrf_from(page), "agree": "oui"})
    assert refused.status_code == 422
    assert "l&#39;acceptation des conditions générales de vente" in refused.get_data(as_text=True)
    signed = client.post(
        client_link, data={"csrf_token": csrf_from(page), "accept_cgv": "oui", "agree": "oui"}
    )
    assert signed.status_code == 302, signed.get_data(as_text=True)[:500]

    # the countersigner gives its "Bon pour accord" only: no CGV checkbox, no CGV sentence
    (_, vendor_link) = iter_outbox_links(app)
    vendor, page = sign_page(app, vendor_link, VENDOR_EMAIL)
    assert 'name="accept_cgv"' not in page and "j&#39;accepte les conditions" not in page
    assert 'name="agree"' in page and "Bon pour accord" in page
    refused = vendor.post(vendor_link, data={"csrf_token": csrf_from(page)})
    assert refused.status_code == 422
    alert = refused.get_data(as_text=True).split('role="alert">')[1].split("</p>")[0]
    assert "Pour signer" in alert and "conditions générales" not in alert
    # a CGV acceptance posted anyway is not recorded
    signed = vendor.post(
        vendor_link, data={"csrf_token": csrf_from(page), "accept_cgv": "oui", "agree": "oui"}
    )
    assert signed.status_code == 302, signed.get_data(as_text=True)[:500]

    with session_of(app) as session:
        acceptances = session.scalars(select(CgvAcceptance)).all()
        assert [a.person_email for a in acceptances] == [CLIENT_EMAIL]
        request = session.scalars(select(SignatureRequest)).one()
        assert request.evidence_document_id is not None
        consents = {s.email: s.consent_text for s in request.signers}
        request_id = request.id
    client_consent, vendor_consent = consents[CLIENT_EMAIL], consents[VENDOR_EMAIL]
    assert client_consent is not None and CGV_SENTENCE in client_consent
    assert vendor_consent is not None and "conditions" not in vendor_consent

    # the evidence file says what each signer consented to
    evidence = json.loads(sales.get(f"/demandes-signature/{request_id}/preuve.json").data)
    signers = {s["email"]: s for s in evidence["signers"]}
    agreement = "Bon pour accord : je signe le contrat CTR-"
    client_consents = signers[CLIENT_EMAIL]["consents"]
    assert client_consents[0] == CGV_SENTENCE and client_consents[1].startswith(agreement)
    assert signers[CLIENT_EMAIL]["accepted_cgv"]["label"] == "3.0"
    assert signers[CLIENT_EMAIL]["accepted_cgv"]["sha256"] == evidence["cgv"]["sha256"]
    (vendor_consent,) = signers[VENDOR_EMAIL]["consents"]
    assert vendor_consent.startswith(agreement)
    assert signers[VENDOR_EMAIL]["accepted_cgv"] is None
    pdf = sales.get(f"/demandes-signature/{request_id}/preuve.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "sans objet : signataire du fournisseur" in " ".join(text.split())
    # the salesperson who sent the contract is named in the evidence's journal, by name
    (sender,) = evidence["users"].values()
    assert f"{sender} a envoyé le contrat pour signature." in " ".join(text.split())
