"""The restitution archive: every file re-hashes to the sealed manifest, the seal validates,
a second request for unchanged data gives the same archive, a GET never builds one; the
client's contact gets it through expiring links."""

from __future__ import annotations

import csv
import hashlib
import http.client
import io
import json
import re
import subprocess
import zipfile
from contextlib import closing
from datetime import UTC, datetime, timedelta
from email.message import Message

import pytest
import weasyprint
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.archive import workflow
from app.archive.models import RestitutionLink, RestitutionStatus
from app.archive.restitution import contents, requests
from app.audit.models import AuditEvent
from app.auth.models import Scope
from app.db import transaction
from app.documents.models import Document, DocumentKind
from app.pki import trust_roots
from app.terms.models import CgvVersion
from app.terms.versions import archive_pdf
from signing import SignatureFieldSpec, SignSpec, add_signature_fields, sign_pdf, verify_detached
from tests.conftest import csrf_from
from tests.factories import deposit_file, make_client, make_token
from tests.factories.sales import publish_cgv
from tests.factories.terms import accept_version
from tests.integration.helpers import body_text, outbox_messages, remove_blob_behind_the_store
from tests.integration.production_server import production_server as production_server

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def _signed_pdf(app: Flask) -> bytes:
    html = "<html><body><h1>Contrat CTR-2026-0001</h1><p>Signé par le cachet.</p></body></html>"
    pdf = add_signature_fields(
        weasyprint.HTML(string=html).write_pdf(), [SignatureFieldSpec("seal")]
    )
    now = datetime.now(UTC)
    return sign_pdf(pdf, app.extensions["paraphe"].seal_key(), SignSpec("seal", "Paraphe", now))


def _deposit(app: Flask, client_id: int, kind: DocumentKind, ref: str, data: bytes) -> None:
    deposit_file(app, client_id, kind, ref, data=data, now=T0, retention=False)


def _client_with_documents(app: Flask) -> int:
    client_id = make_client(app)
    _deposit(app, client_id, DocumentKind.QUOTE, "DEV-2026-0001", b"%PDF-1.7 devis")
    _deposit(app, client_id, DocumentKind.CONTRACT, "CTR-2026-0001", b"%PDF-1.7 contrat")
    _deposit(app, client_id, DocumentKind.SIGNED_CONTRACT, "CTR-2026-0001-signe", _signed_pdf(app))
    _deposit(app, client_id, DocumentKind.EVIDENCE, "PRV-2026-0001", b"%PDF-1.7 preuve")
    _deposit(app, client_id, DocumentKind.INVOICE, "FAC-2026-0001", b"%PDF-1.7 facture")
    # Same file name under another kind: both must be restituted, under distinct paths.
    _deposit(app, client_id, DocumentKind.CREDIT_NOTE, "FAC-2026-0001-A", b"%PDF-1.7 avoir")
    return client_id


def _cgv_body(label: str) -> str:
    return f"# Article 1 : objet\n\nCGV {label}."


def _accept_cgv(app: Flask, client_id: int, label: str, *, archived_pdf: bool) -> None:
    """The client accepts CGV version `label` (published now); its PDF/A archived or not (a
    version published before PDFs were archived)."""
    publish_cgv(app, _cgv_body(label), label=label)
    rt = app.extensions["paraphe"]
    with transaction(rt.session_factory) as session:
        version = session.scalars(select(CgvVersion).where(CgvVersion.label == label)).one()
        if archived_pdf:
            archive_pdf(session, rt.store, version, vendor_name="Paraphe", now=T0, actor="t")
        accept_version(session, client_id, version, now=T0)


def _link(message: Message) -> str:
    body = body_text(message)  # the plain-text part, beside the HTML alternative
    match = re.search(r"http://[^\s]+", body)
    assert match, body
    return match.group(0).removeprefix("http://127.0.0.1:5000")


def _check_archive(app: Flask, data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        manifest_bytes = zf.read("manifest.json")
        seal = zf.read("manifest.json.p7s")
        manifest = json.loads(manifest_bytes)
        # The sealed format: exactly json.dumps(manifest, ensure_ascii=False, indent=2).
        assert manifest_bytes == json.dumps(manifest, ensure_ascii=False, indent=2).encode()
        report = verify_detached(
            manifest_bytes, seal, trust_roots(app.extensions["paraphe"].settings)
        )
        assert report.ok, report.problem
        listed = [entry["path"] for entry in manifest["files"]]
        assert sorted(listed) == sorted(set(names) - {"manifest.json", "manifest.json.p7s"})
        for entry in manifest["files"]:
            content = zf.read(entry["path"])
            assert hashlib.sha256(content).hexdigest() == entry["sha256"], entry["path"]
            assert len(content) == entry["size"]
        index = zf.read("index.csv")
        assert index.startswith("\ufeff".encode()) and index.count(b";") > index.count(b",")
        rows = list(
            csv.DictReader(io.StringIO(index.decode("utf-8-sig")), delimiter=";"),
        )
        by_path = {entry["path"]: entry for entry in manifest["files"]}
        assert rows and all(by_path[r["path"]]["sha256"] == r["sha256"] for r in rows)
        invoice = next(r for r in rows if r["kind"] == "invoice")
        assert invoice["retention_until"] == "2036-12-31" and "10 ans" in invoice["retention_basis"]
        verification = json.loads(zf.read("rapports-de-verification/CTR-2026-0001-signe.json"))
        assert verification["all_ok"] is True
        assert verification["signatures"][0]["intact"] is True
        journal_bytes = zf.read("journal.json")
        journal = json.loads(journal_bytes)
        assert journal_bytes == json.dumps(journal, ensure_ascii=False, indent=2).encode()
        assert {e["action"] for e in journal} >= {"client.created", "document.deposited"}
        # The LISEZMOI names every folder of the archive, and no other.
        readme = zf.read("LISEZMOI.txt").decode("utf-8")
        named = set(re.findall(r"^  ([a-z-]+/)", readme, re.M))
        assert named == {name.split("/", 1)[0] + "/" for name in names if "/" in name}
        assert "« ; »" in readme and "BOM" in readme
        # A changed manifest no longer matches its seal.
        tampered = manifest_bytes.replace(b"FAC-2026-0001", b"FAC-2026-0002")
        roots = trust_roots(app.extensions["paraphe"].settings)
        assert not verify_detached(tampered, seal, roots).ok
        return sorted(names)


def test_archivist_request_gives_a_sealed_verifiable_archive(
    app: Flask, client: FlaskClient
) -> None:
    client_id = _client_with_documents(app)
    _accept_cgv(app, client_id, "3.0", archived_pdf=True)
    _accept_cgv(app, client_id, "3.1", archived_pdf=False)
    headers = {"Authorization": f"Bearer {make_token(app, Scope.RESTITUTION)}"}
    first = client.post(f"/api/v1/clients/{client_id}/restitution", headers=headers)
    # Not built yet: a job builds it (inline in the tests); the status resource follows it.
    assert first.status_code == 202, first.get_data(as_text=True)
    assert first.headers["Location"] == f"/api/v1/restitution-requests/{first.get_json()['id']}"
    body = client.get(first.headers["Location"], headers=headers).get_json()
    assert body == first.get_json() and body["status"] == "ready"
    assert body["mail_sent_to"] == "zoe@example.fr"
    assert body["document"]["kind"] == "restitution"
    assert body["content_url"] == f"/api/v1/clients/{client_id}/restitution"

    [message] = outbox_messages(app.extensions["paraphe"].settings.outbox_dir)
    url = _link(message)
    assert url.startswith("/restitution/archive/")
    download = client.get(url)
    assert download.status_code == 200 and download.mimetype == "application/zip"
    data = download.data
    assert hashlib.sha256(data).hexdigest() == body["document"]["sha256"]
    names = _check_archive(app, data)
    assert {"factures/FAC-2026-0001.pdf", "avoirs/FAC-2026-0001-A.pdf"} <= set(names)
    # The accepted CGV: the archived PDF/A itself; the text of a version without one.
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        with transaction(app.extensions["paraphe"].session_factory) as session:
            pdf = session.scalars(select(Document).where(Document.kind == DocumentKind.CGV)).one()
        cgv_pdf = zf.read("cgv/CGV-3.0.pdf")
        assert cgv_pdf.startswith(b"%PDF") and hashlib.sha256(cgv_pdf).hexdigest() == pdf.sha256
        assert zf.read("cgv/CGV-3.1.md").decode() == _cgv_body("3.1")
        assert "cgv/CGV-3.0.md" not in names

    second = client.post(f"/api/v1/clients/{client_id}/restitution", headers=headers)
    # Nothing changed but the restitution's own bookkeeping (links, download): the same one.
    assert second.status_code == 200, second.get_data(as_text=True)
    assert second.get_json()["document"] == body["document"]
    assert second.get_json()["created"] is False and second.get_json()["status"] == "ready"
    assert second.get_json()["files"] == len(_check_archive_paths(data))
    assert second.get_json()["download_url"].endswith(
        _link(outbox_messages(app.extensions["paraphe"].settings.outbox_dir)[-1])
    )
    assert second.headers["Location"].endswith(f"/api/v1/documents/{body['document']['id']}")

    with transaction(app.extensions["paraphe"].session_factory) as session:
        stored = session.scalars(
            select(Document).where(Document.kind == DocumentKind.RESTITUTION)
        ).all()
        assert len(stored) == 1
        journaled = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "client.restitution")
        ).all()
        assert len(journaled) == 1 and stored[0].sha256 in journaled[0]
        assert any(
            e == "restitution.downloaded" for e in session.scalars(select(AuditEvent.action))
        )
        session.execute(
            update(RestitutionLink).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    expired = client.get(url)
    assert expired.status_code == 410 and "expiré" in expired.get_data(as_text=True)


def _check_archive_paths(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [entry["path"] for entry in json.loads(zf.read("manifest.json"))["files"]]


def _restitutions(app: Flask) -> list[Document]:
    with transaction(app.extensions["paraphe"].session_factory) as session:
        return list(
            session.scalars(
                select(Document)
                .where(Document.kind == DocumentKind.RESTITUTION)
                .order_by(Document.id)
            )
        )


def test_a_get_never_builds_and_a_post_builds_only_for_changed_data(
    app: Flask, client: FlaskClient
) -> None:
    client_id = _client_with_documents(app)
    headers = {"Authorization": f"Bearer {make_token(app, Scope.RESTITUTION)}"}
    url = f"/api/v1/clients/{client_id}/restitution"

    missing = client.get(url, headers=headers)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert "POST" in missing.get_json()["detail"] and url in missing.get_json()["detail"]
    assert _restitutions(app) == []

    built = client.post(url, headers=headers)
    assert built.status_code == 202, built.get_data(as_text=True)
    first = built.get_json()["document"]
    for _ in range(2):  # reading it twice changes nothing
        got = client.get(url, headers=headers)
        assert got.status_code == 200 and got.mimetype == "application/zip"
        assert hashlib.sha256(got.data).hexdigest() == first["sha256"]
    _check_archive(app, got.data)
    assert [d.id for d in _restitutions(app)] == [first["id"]]

    # New data: the next POST builds a new archive, which the GET then returns.
    _deposit(app, client_id, DocumentKind.INVOICE, "FAC-2026-0002", b"%PDF-1.7 facture 2")
    rebuilt = client.post(url, headers=headers)
    assert rebuilt.status_code == 202 and rebuilt.get_json()["status"] == "ready"
    second = rebuilt.get_json()["document"]
    assert second["id"] != first["id"] and second["reference"] != first["reference"]
    latest = client.get(url, headers=headers)
    assert hashlib.sha256(latest.data).hexdigest() == second["sha256"]
    assert "factures/FAC-2026-0002.pdf" in _check_archive(app, latest.data)
    assert len(_restitutions(app)) == 2


def test_client_requests_its_archive_through_an_emailed_link(
    app: Flask, client: FlaskClient
) -> None:
    client_id = _client_with_documents(app)
    outbox = app.extensions["paraphe"].settings.outbox_dir
    headers = {"Authorization": f"Bearer {make_token(app, Scope.RESTITUTION)}"}
    invited = client.post(f"/api/v1/clients/{client_id}/restitution-invitation", headers=headers)
    assert invited.status_code == 201
    [invitation] = outbox_messages(outbox)
    request_url = _link(invitation)
    assert request_url.startswith("/restitution/demande/")

    page = client.get(request_url)
    assert page.status_code == 200
    no_csrf = client.post(request_url, data={})
    assert no_csrf.status_code == 400  # CSRF refused, nothing produced
    ready = client.post(request_url, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    # Built by a job (inline here): the page follows it, the link comes by mail.
    assert ready.status_code == 202, ready.get_data(as_text=True)
    assert "en préparation" in ready.get_data(as_text=True)
    status = client.get(f"{request_url}/etat")
    assert status.get_json()["status"] == "ready" and "courriel" in status.get_json()["message"]
    [_invitation, ready_mail] = outbox_messages(outbox)
    download = client.get(_link(ready_mail))
    assert download.status_code == 200
    _check_archive(app, download.data)

    again = client.post(request_url, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert again.status_code == 410
    assert client.get("/restitution/archive/inconnu").status_code == 410


def test_a_damaged_document_stops_the_restitution_and_is_journaled(
    app: Flask, client: FlaskClient
) -> None:
    client_id = _client_with_documents(app)
    rt = app.extensions["paraphe"]
    with transaction(rt.session_factory) as session:
        invoice = session.scalars(
            select(Document).where(Document.kind == DocumentKind.INVOICE)
        ).one()
        sha256 = invoice.sha256
    remove_blob_behind_the_store(rt, sha256)
    headers = {"Authorization": f"Bearer {make_token(app, Scope.RESTITUTION)}"}
    url = f"/api/v1/clients/{client_id}/restitution"
    for _attempt in range(2):  # refused each time, journaled each time
        response = client.post(url, headers=headers)
        assert response.status_code == 202, response.get_data(as_text=True)
        status = client.get(response.headers["Location"], headers=headers).get_json()
        assert status["status"] == "failed" and status["document"] is None
        assert sha256 in status["problem"]
    assert client.get(url, headers=headers).status_code == 404  # nothing was archived
    with transaction(rt.session_factory) as session:
        failures = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "document.integrity_failed")
        ).all()
        assert len(failures) == 2
        assert (
            session.scalars(select(Document).where(Document.kind == DocumentKind.RESTITUTION)).all()
            == []
        )
    assert outbox_messages(rt.settings.outbox_dir) == []  # no link mailed for no archive


def test_a_request_link_stopped_by_a_damaged_document_works_once_it_is_restored(
    app: Flask, client: FlaskClient
) -> None:
    client_id = _client_with_documents(app)
    rt = app.extensions["paraphe"]
    outbox = rt.settings.outbox_dir
    headers = {"Authorization": f"Bearer {make_token(app, Scope.RESTITUTION)}"}
    client.post(f"/api/v1/clients/{client_id}/restitution-invitation", headers=headers)
    [invitation] = outbox_messages(outbox)
    request_url = _link(invitation)
    with transaction(rt.session_factory) as session:
        invoice = session.scalars(
            select(Document).where(Document.kind == DocumentKind.INVOICE)
        ).one()
        sha256 = invoice.sha256
    content = rt.store.get(sha256)
    remove_blob_behind_the_store(rt, sha256)
    page = client.get(request_url)
    form = {"csrf_token": csrf_from(page.get_data(as_text=True))}
    refused = client.post(request_url, data=form)
    assert refused.status_code == 202
    failed = client.get(f"{request_url}/etat").get_json()
    assert failed["status"] == "failed" and "endommagé" in failed["message"]
    rt.store.put(content)
    ready = client.post(request_url, data=form)
    assert ready.status_code == 202, ready.get_data(as_text=True)
    assert client.get(f"{request_url}/etat").get_json()["status"] == "ready"
    [_invitation, ready_mail] = outbox_messages(outbox)
    _check_archive(app, client.get(_link(ready_mail)).data)
    assert client.post(request_url, data=form).status_code == 410


def test_rows_are_read_a_page_at_a_time(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client_id = _client_with_documents(app)
    # Pages of 2 rows: the 6 documents and the journal span several keyset pages.
    monkeypatch.setattr(contents, "_ROWS_PER_QUERY", 2)
    headers = {"Authorization": f"Bearer {make_token(app, Scope.RESTITUTION)}"}
    built = client.post(f"/api/v1/clients/{client_id}/restitution", headers=headers)
    assert built.status_code == 202, built.get_data(as_text=True)
    response = client.get(f"/api/v1/clients/{client_id}/restitution", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    names = _check_archive(app, response.data)
    assert len([n for n in names if n.endswith(".pdf")]) == 6
    with zipfile.ZipFile(io.BytesIO(response.data)) as zf:
        journal = json.loads(zf.read("journal.json"))
    with transaction(app.extensions["paraphe"].session_factory) as session:
        ids = session.scalars(
            select(AuditEvent.id).where(AuditEvent.client_id == client_id).order_by(AuditEvent.id)
        ).all()
    # The POST journals the restitution after writing the archive: the excerpt has all before.
    assert [e["id"] for e in journal] == list(ids[: len(journal)]) and len(journal) >= 7


@pytest.mark.real_clock  # the production server and certomancer keep the real clock
def test_the_archive_streams_through_the_production_server(
    app: Flask, production_server: tuple[str, subprocess.Popen[bytes]]
) -> None:
    """The same archive, downloaded from `paraphe serve` (granian) in one call: the body is
    streamed from the blob store, its length announced, and it re-hashes to its manifest."""
    base, _process = production_server
    client_id = _client_with_documents(app)
    token = make_token(app, Scope.RESTITUTION)
    url = f"/api/v1/clients/{client_id}/restitution"
    auth = {"Authorization": f"Bearer {token}"}
    with closing(http.client.HTTPConnection(base.removeprefix("http://"), timeout=60)) as conn:
        conn.request("POST", url, headers=auth)  # builds it
        built = conn.getresponse()
        assert built.status == 202, built.read()  # built by the inline job
        built.read()
        conn.request("GET", url, headers=auth)  # streams it
        response = conn.getresponse()
        assert response.status == 200, response.read()
        assert response.getheader("Content-Type") == "application/zip"
        chunks = []
        while chunk := response.read(64 * 1024):
            chunks.append(chunk)
    data = b"".join(chunks)
    assert len(data) == int(response.getheader("Content-Length") or -1)
    names = _check_archive(app, data)
    assert {"factures/FAC-2026-0001.pdf", "avoirs/FAC-2026-0001-A.pdf"} <= set(names)


def test_the_cli_builds_once_for_unchanged_data(app: Flask) -> None:
    client_id = _client_with_documents(app)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["jobs", "restitution", str(client_id)])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("PRODUITE") and "RST-" in first.output
    files = re.search(r"  (\d+)\u00a0fichiers  ", first.output)  # a real plural, no « (s) »
    assert files is not None and int(files.group(1)) >= 2, first.output
    again = runner.invoke(args=["jobs", "restitution", str(client_id)])
    assert again.exit_code == 0 and again.output.startswith("INCHANGÉE"), again.output
    [archive] = _restitutions(app)
    assert archive.reference in again.output and archive.sha256 in again.output
    _check_archive(app, app.extensions["paraphe"].store.get(archive.sha256))
    unknown = runner.invoke(args=["jobs", "restitution", str(client_id + 1000)])
    assert unknown.exit_code == 1 and "introuvable" in unknown.output


def test_a_restitution_job_run_twice_archives_and_mails_once(app: Flask) -> None:
    """Two requests while one is pending are the same request; its job run again (a retry,
    two workers) finds it ready and mails nothing more."""
    client_id = _client_with_documents(app)
    rt = app.extensions["paraphe"]
    collab = rt.collaborators(datetime.now(UTC))
    first = workflow.order_restitution(collab, client_id, actor="token:1")
    assert workflow.order_restitution(collab, client_id, actor="token:2") == first

    assert workflow.fulfil_restitution(collab, first) is RestitutionStatus.READY
    assert workflow.fulfil_restitution(collab, first) is RestitutionStatus.READY
    [mail] = outbox_messages(rt.settings.outbox_dir)
    assert _link(mail).startswith(requests.DOWNLOAD_PATH)
    assert len(_restitutions(app)) == 1
    with app.test_request_context():
        # The job builds the link without a request: the same address as the route's.
        assert requests.download_url("http://x", "t") == "http://x" + url_for(
            "restitution.download", token="t"
        )
