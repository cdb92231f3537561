"""The whole path, once, through the HTTP interfaces: login → client → quote → contract PDF →
signature → archive API → termination → restitution zip."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile

from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from app.auth.models import Role, Scope
from signing import verify_pdf
from tests.conftest import CGV_FIXTURE
from tests.factories import login, make_token, make_user, publish_cgv
from tests.integration.helpers import (
    authenticate,
    body_text,
    download_link,
    outbox_messages,
    post_form,
    signing_link,
)
from tests.integration.http_journey import QUOTE_LINES
from tests.integration.sealed_pdf import assert_sealed_contract, assert_valid_for_pdfsig


def test_quote_to_restitution(app: Flask, client: FlaskClient) -> None:
    settings = app.extensions["paraphe"].settings
    publish_cgv(app, CGV_FIXTURE.read_text(encoding="utf-8"))
    login(client, make_user(app, Role.SALES))

    # 1. client
    response = post_form(
        client,
        "/clients/nouveau",
        {
            "legal_name": "Boulangerie Lefèvre & Fils",
            "siren": "552 100 554",
            "vat_number": "FR96552100554",
            "address": "3 place de la Bourse",
            "postal_code": "69002",
            "city": "Lyon",
            "signer_name": "Zoë Łukasiewicz-Müller",
            "signer_email": "zoe@example.fr",
        },
    )
    assert response.status_code == 302
    client_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Boulangerie Lefèvre &amp; Fils" in client_page
    client_found = re.search(r"/clients/(\d+)", response.headers["Location"])
    assert client_found is not None, response.headers["Location"]
    client_id = int(client_found.group(1))

    # 2. quote with lines, totals shown
    response = post_form(
        client,
        f"/devis/nouveau/{client_id}",
        {
            **QUOTE_LINES,
            "lines-2-designation": "Documentation papier",
            "lines-2-quantity": "1",
            "lines-2-unit_price": "49.99",
            "lines-2-vat_rate": "5.5",
            "particular_terms": "Le Client bénéficie d'une remise de lancement de 10 %.",
            "save": "Enregistrer le devis",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    quote_url = response.headers["Location"]
    quote_page = client.get(quote_url).get_data(as_text=True)
    # 15 000 + 1 350 = 16 350 at 20 % (VAT 3 270) + 49,99 at 5,5 % (VAT 2,75)
    assert "16\u202f399,99\u00a0€" in quote_page
    assert "3\u202f272,75\u00a0€" in quote_page
    assert "19\u202f672,74\u00a0€" in quote_page
    quote_id = int(quote_url.rsplit("/", 1)[1])

    # 3. contract
    page = client.get(quote_url)
    from tests.conftest import csrf_from

    response = client.post(
        f"/contrats/generer/{quote_id}", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    assert response.status_code == 302
    contract_url = response.headers["Location"]
    contract_page = client.get(contract_url).get_data(as_text=True)
    assert "Contrat CTR-" in contract_page and "Version 1" in contract_page
    number_found = re.search(r"(CTR-\d{4}-\d{4})", contract_page)
    assert number_found is not None, "the contract page shows its number"
    number = number_found.group(1)
    pdf = client.get(f"{contract_url}/v1.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.data))
    total = len(reader.pages)
    assert total > 10  # the full CGV is in the contract
    for index, pdf_page in enumerate(reader.pages, start=1):
        text = pdf_page.extract_text()
        assert f"{index} / {total}" in text
        assert number in text
    full_text = "\n".join(p.extract_text() for p in reader.pages)
    assert "ARTICLE 1. DÉFINITIONS" in full_text
    assert "Boulangerie Lefèvre & Fils" in full_text
    assert "remise de lancement" in full_text

    # 4. send → email with link
    page = client.get(contract_url)
    response = client.post(
        f"{contract_url}/v1/envoyer", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    assert response.status_code == 302
    messages = outbox_messages(settings.outbox_dir)
    assert len(messages) == 1 and messages[0]["To"] == "zoe@example.fr"
    assert number in body_text(messages[0])
    link = signing_link(messages[0])

    # 5. the signer (another browser, no account)
    signer = app.test_client()
    sign_page = signer.get(link)
    assert sign_page.status_code == 200
    html = sign_page.get_data(as_text=True)
    assert "version 2.2 du 4 septembre 2022" in html
    assert 'id="sign"' not in html  # first the one-time code
    authenticate(app, signer, link, "zoe@example.fr")
    html = signer.get(link).get_data(as_text=True)
    token_csrf = csrf_from(html)
    refused = signer.post(link, data={"csrf_token": token_csrf, "agree": "oui"})
    assert refused.status_code == 422
    assert "conditions générales" in refused.get_data(as_text=True)
    done = signer.post(
        link,
        data={"csrf_token": token_csrf, "accept_cgv": "oui", "agree": "oui"},
        headers={"User-Agent": "TestBrowser/1.0"},
    )
    assert done.status_code == 302
    done_page = signer.get(done.headers["Location"]).get_data(as_text=True)
    assert "votre signature est enregistrée" in done_page  # the countersigner comes next
    assert signer.get(f"{link}/document-signe.pdf").status_code == 409

    # 5b. the vendor's countersigner (the sales user who generated the contract), invited now
    messages = outbox_messages(settings.outbox_dir)
    invitations = [m for m in messages if "ouvrez ce lien personnel" in body_text(m)]
    assert [m["To"] for m in invitations] == ["zoe@example.fr", "sales@example.test"]
    countersign = signing_link(invitations[1])
    vendor = app.test_client()
    authenticate(app, vendor, countersign, "sales@example.test")
    vendor_csrf = csrf_from(vendor.get(countersign).get_data(as_text=True))
    done = vendor.post(
        countersign, data={"csrf_token": vendor_csrf, "accept_cgv": "oui", "agree": "oui"}
    )
    assert done.status_code == 302
    assert "le contrat est signé" in vendor.get(done.headers["Location"]).get_data(as_text=True)
    # everyone gets the sealed PDF's link
    completion = [
        m for m in outbox_messages(settings.outbox_dir) if "/signature/document/" in body_text(m)
    ]
    assert sorted(m["To"] for m in completion) == ["sales@example.test", "zoe@example.fr"]
    signed = signer.get(f"{link}/document-signe.pdf")
    assert signed.status_code == 200
    assert signed.data.startswith(pdf.data)  # incremental: the original is the first revision
    reused = signer.get(link)
    assert reused.status_code == 410

    # independent proof: pyHanko's validator and poppler's pdfsig
    from app.pki import trust_roots

    assert_sealed_contract(verify_pdf(signed.data, trust_roots(settings)))
    assert signer.get(download_link(completion[0])).data == signed.data
    assert_valid_for_pdfsig(signed.data, settings.instance_dir / "signed.pdf")

    # the sales user sees the signed status
    assert "signé" in client.get(contract_url).get_data(as_text=True)

    # 6. archivist API
    token = make_token(app, Scope.READ, Scope.RESTITUTION)
    auth = {"Authorization": f"Bearer {token}"}
    listing = client.get(f"/api/v1/documents?client_id={client_id}", headers=auth)
    assert listing.status_code == 200
    documents = listing.json
    assert documents is not None
    kinds = sorted(d["kind"] for d in documents["items"])
    assert kinds == ["contract", "evidence", "evidence", "signed_contract"]
    signed_meta = next(d for d in documents["items"] if d["kind"] == "signed_contract")
    assert signed_meta["sha256"] == hashlib.sha256(signed.data).hexdigest()
    assert signed_meta["reference"] == number and signed_meta["version"] == 1
    meta = client.get(f"/api/v1/documents/{signed_meta['id']}", headers=auth).json
    assert meta is not None
    assert meta["size"] == len(signed.data)
    content = client.get(f"/api/v1/documents/{signed_meta['id']}/content", headers=auth)
    assert content.data == signed.data
    assert content.headers["ETag"] == f'"{signed_meta["sha256"]}"'
    cached = client.get(
        f"/api/v1/documents/{signed_meta['id']}/content",
        headers={**auth, "If-None-Match": content.headers["ETag"]},
    )
    assert cached.status_code == 304
    acceptances = client.get(f"/api/v1/clients/{client_id}/cgv-acceptances", headers=auth).json
    assert acceptances is not None
    assert len(acceptances["items"]) == 1
    accepted = acceptances["items"][0]
    assert accepted["cgv_version"]["label"] == "2.2"
    assert accepted["method"] == "contract_signature"
    assert accepted["user_agent"] == "TestBrowser/1.0"
    assert accepted["text_sha256"] == hashlib.sha256(CGV_FIXTURE.read_bytes()).hexdigest()

    # 7. termination and restitution
    terminated = client.post(
        f"/api/v1/clients/{client_id}/termination",
        headers=auth,
        json={"terminated_on": "2026-12-31", "reason": "Fin d'abonnement"},
    )
    assert terminated.status_code == 201
    again = client.post(
        f"/api/v1/clients/{client_id}/termination",
        headers=auth,
        json={"terminated_on": "2026-12-31"},
    )
    assert again.status_code == 409
    built = client.post(f"/api/v1/clients/{client_id}/restitution", headers=auth)
    assert built.status_code == 202 and built.get_json()["status"] == "ready"  # inline job
    archive = client.get(f"/api/v1/clients/{client_id}/restitution", headers=auth)
    assert archive.status_code == 200 and archive.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.data)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        names = set(zf.namelist())
        assert {
            f"contrats/{number}-v1.pdf",
            f"contrats-signes/{number}-v1-signe.pdf",
            "cgv/CGV-2.2.md",
            "acceptations-cgv.json",
            "LISEZMOI.txt",
        } <= names
        listed = {entry["path"] for entry in manifest["files"]}
        assert listed == names - {"manifest.json", "manifest.json.p7s"}
        for entry in manifest["files"]:
            data = zf.read(entry["path"])
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
            assert len(data) == entry["size"]
    assert manifest["client"]["terminated_on"] == "2026-12-31"
