"""The revision being signed (a blob named by the signature request, not an archived document)
is read through an integrity check too: a flipped byte or a missing blob is refused with a 503
and journaled once as `signature.revision_integrity_failed`, never a 500. So are the other
reads that went around the archive's check: the purge job's certificate mail, the
restitution's verification reports and the send's comparison with the contract."""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime
from html import unescape
from pathlib import Path
from typing import BinaryIO

import pytest
import weasyprint
from flask import Flask
from sqlalchemy import func, select

from app.archive.jobs import run_purge
from app.audit import services as audit
from app.audit.models import AuditEvent
from app.auth.models import Role, Scope
from app.clients.models import Client
from app.contracts.queries import get_contract
from app.db import transaction, utcnow
from app.documents.models import Document, DocumentKind
from app.mail import MailError, OutgoingMail
from app.signatures.errors import SignatureRefused
from app.signatures.models import RequestStatus, SignatureRequest, SignerStatus
from app.terms.models import CgvAcceptance
from signing import SignatureFieldSpec, SignSpec, add_signature_fields, sign_pdf
from storage import FilesystemBlobStore
from tests.conftest import csrf_from
from tests.factories import (
    certified_for,
    deposit_file,
    login_as,
    make_client,
    make_contracted_client,
    make_token,
    publish_short_cgv,
    runtime,
    send_version_1,
    sent_link,
    session_of,
    sign_through_services,
)
from tests.factories.archive import terminate_in_archive
from tests.factories.audit import journaled_details
from tests.factories.signing import seal_failing
from tests.integration.helpers import authenticate, outbox_messages, store_clock_at

SIGNER = "zoe@example.fr"
STUCK = "/demandes-signature/cachet-en-attente"


def _blob(app: Flask, sha256: str) -> Path:
    store = runtime(app).store
    assert isinstance(store, FilesystemBlobStore)
    return store.root / sha256[:2] / sha256[2:4] / sha256


def _damage(path: Path, problem: str) -> None:
    """Flip one byte of the blob ("mismatch") or delete it ("missing")."""
    if problem == "missing":
        path.unlink()
        return
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _request(app: Flask) -> SignatureRequest:
    with transaction(runtime(app).session_factory) as session:
        request = session.scalars(select(SignatureRequest)).one()
        session.refresh(request, ["signers"])
        session.expunge_all()
        return request


def _revision_failures(app: Flask, request_id: int) -> list[str]:
    """The `details` of every journaled revision failure of the request; the chain is valid."""
    return journaled_details(
        app, "signature.revision_integrity_failed", request_id, "signature_request"
    )


def _problem_text(problem: str) -> str:
    return "est introuvable dans le stockage" if problem == "missing" else "ne correspond plus"


@pytest.mark.parametrize("problem", ["mismatch", "missing"])
def test_signing_a_damaged_revision_is_refused_and_journaled(app: Flask, problem: str) -> None:
    link = sent_link(app)
    browser = app.test_client()
    authenticate(app, browser, link, SIGNER)
    csrf = csrf_from(browser.get(link).get_data(as_text=True))
    before = _request(app)
    assert before.current_sha256 is not None
    _damage(_blob(app, before.current_sha256), problem)

    # The POST records the consent and answers at once; the signature job (inline here) reads
    # the damaged revision: refused, journaled, counted on the signer, nothing signed.
    posted = browser.post(link, data={"csrf_token": csrf, "accept_cgv": "oui", "agree": "oui"})

    assert posted.status_code == 302, posted.get_data(as_text=True)[:500]
    [failure] = _revision_failures(app, before.id)
    details = json.loads(failure)
    assert details["problem"] == problem and details["sha256"] == before.current_sha256
    after = _request(app)  # nothing was signed
    assert after.status is RequestStatus.SENT and after.current_sha256 == before.current_sha256
    assert {s.status for s in after.signers} != {SignerStatus.SIGNED}
    assert all(s.signed_at is None for s in after.signers)
    [signer] = [s for s in after.signers if s.status is SignerStatus.SIGNING]
    assert signer.sign_attempts == 1 and signer.sign_error
    assert _problem_text(problem) in signer.sign_error
    late = unescape(browser.get(posted.headers["Location"]).get_data(as_text=True))
    assert "pris du retard" in late and "relancée automatiquement" in late
    with transaction(runtime(app).session_factory) as session:
        # the consent is the proof of the signer's will: kept, with its CGV acceptance
        assert session.scalar(select(func.count()).select_from(CgvAcceptance)) == 1
        signed = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "signature.signed")
        )
        assert signed == 0


def _completed_unsealed(app: Flask) -> SignatureRequest:
    """A request signed by everyone whose seal did not happen (the TSA was down)."""
    link = sent_link(app)
    with seal_failing(app):
        sign_through_services(app, link)
    request = _request(app)
    assert request.status is RequestStatus.COMPLETED and request.signed_document_id is None
    return request


@pytest.mark.parametrize("problem", ["mismatch", "missing"])
def test_sweep_reports_a_damaged_revision_and_keeps_the_request_waiting(
    app: Flask, monkeypatch: pytest.MonkeyPatch, problem: str
) -> None:
    request = _completed_unsealed(app)
    assert request.current_sha256 is not None
    path = _blob(app, request.current_sha256)
    original = path.read_bytes()
    _damage(path, problem)

    swept = app.test_cli_runner().invoke(args=["signatures", "sweep"])

    assert swept.exit_code == 1, swept.output
    assert swept.exception is None or isinstance(swept.exception, SystemExit)
    assert "Cachet impossible : Le document en cours de signature" in swept.output
    assert _problem_text(problem) in swept.output and "1 en échec" in swept.output
    [failure] = _revision_failures(app, request.id)
    assert json.loads(failure)["problem"] == problem
    still = _request(app)
    assert still.signed_document_id is None and still.sealed_at is None
    assert still.seal_error is not None and "endommagé" in still.seal_error
    admin = login_as(app, Role.ADMIN)
    page = unescape(admin.get(STUCK).get_data(as_text=True))
    assert 'id="stuck"' in page and "Le document en cours de signature" in page

    # The operator's "seal now" says why, journals it again, and changes nothing else.
    resealed = admin.post(
        f"/demandes-signature/{request.id}/sceller", data={"csrf_token": csrf_from(page)}
    )
    assert resealed.status_code == 302
    page = unescape(admin.get(STUCK).get_data(as_text=True))
    assert "Le cachet a encore échoué : Le document en cours de signature" in page
    assert len(_revision_failures(app, request.id)) == 2
    assert _request(app).signed_document_id is None

    # Restored from a backup, the next sweep seals it.
    os.makedirs(path.parent, exist_ok=True)
    if path.exists():
        os.chmod(path, 0o644)
    path.write_bytes(original)
    done = app.test_cli_runner().invoke(args=["signatures", "sweep"])
    assert done.exit_code == 0 and "1\u00a0demande scellée" in done.output
    assert _request(app).signed_document_id is not None
    assert len(_revision_failures(app, request.id)) == 2


def test_send_compares_with_the_contract_without_reading_the_store_again(app: Flask) -> None:
    """The send view read the contract through the integrity check before certifying it; the
    service checks the certified PDF against the document's hash, not against a second read
    of the blob (which, damaged meanwhile, made a 500)."""
    publish_short_cgv(app)
    contract_id = make_contracted_client(app).contract_id
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        version = get_contract(session, contract_id).versions[0]
        certified = certified_for(app, version)
        other = certified_for(app, version).replace(b"%PDF", b"%PDX", 1)
        sha256 = version.document.sha256
    _damage(_blob(app, sha256), "missing")
    with pytest.raises(SignatureRefused):
        send_version_1(app, contract_id, certified=other)
    request_id, tokens = send_version_1(app, contract_id, certified=certified)
    with session_of(app) as session:
        request = session.get_one(SignatureRequest, request_id)
        assert request.current_sha256 is not None and len(tokens) == 1


class _FailingMailer:
    def send(self, mail: OutgoingMail) -> None:
        raise MailError("serveur SMTP injoignable")


def test_purge_does_not_mail_a_damaged_certificate(app: Flask) -> None:
    """A certificate whose blob is damaged is not mailed and not recorded as sent: the failure
    is journaled and reported (the command exits 1), the contact keeps its address, and the
    first run after the blob is restored sends it."""
    rt = runtime(app)
    client_id = make_client(app)
    deposited = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    data = b"%PDF-1.7 devis DEV-2026-0001"
    deposit_file(app, client_id, DocumentKind.QUOTE, "DEV-2026-0001", data=data, now=deposited)
    terminate_in_archive(app, client_id, on=date(2026, 6, 30), now=deposited)
    today = date(2027, 1, 5)
    now = datetime(2027, 1, 5, 3, 0, tzinfo=UTC)
    with pytest.raises(MailError):  # the certificate is issued, its mail fails
        run_purge(
            store_clock_at(replace(rt, mailer=_FailingMailer()), now),
            today=today,
            now=now,
            dry_run=False,
        )
    with transaction(rt.session_factory) as session:
        certificate = session.scalars(
            select(Document).where(Document.kind == DocumentKind.DELETION_CERTIFICATE)
        ).one()
        certificate_id, sha256 = certificate.id, certificate.sha256
    path = _blob(app, sha256)
    original = path.read_bytes()
    _damage(path, "mismatch")

    report = run_purge(store_clock_at(rt, now), today=today, now=now, dry_run=False)

    [line] = report.damaged
    assert "ne correspond plus à son empreinte" in line and sha256 in line
    assert report.emailed == []
    outbox = rt.settings.outbox_dir
    assert not outbox.exists() or outbox_messages(outbox) == []
    with transaction(rt.session_factory) as session:
        assert audit.verify_chain(session) == []
        failures = session.scalars(
            select(AuditEvent.details).where(
                AuditEvent.action == "document.integrity_failed",
                AuditEvent.subject_id == str(certificate_id),
            )
        ).all()
        assert len(failures) == 1 and json.loads(failures[0])["problem"] == "mismatch"
        sent = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "deletion_certificate.sent")
        )
        assert sent == 0
        client = session.get(Client, client_id)
        assert client is not None and client.signer_email == SIGNER

    _damage(path, "missing")
    command = app.test_cli_runner().invoke(args=["jobs", "purge"])
    assert command.exit_code == 1, command.output
    assert "NON ENVOYÉ" in command.output and "est introuvable dans le stockage" in command.output

    os.makedirs(path.parent, exist_ok=True)
    path.write_bytes(original)
    resumed = run_purge(store_clock_at(rt, now), today=today, now=now, dry_run=False)
    assert resumed.damaged == [] and resumed.emailed == [f"{_certificate_reference(app)}.pdf"]
    [message] = outbox_messages(outbox)
    assert message["To"] == SIGNER


def _certificate_reference(app: Flask) -> str:
    with transaction(runtime(app).session_factory) as session:
        return session.scalars(
            select(Document.reference).where(Document.kind == DocumentKind.DELETION_CERTIFICATE)
        ).one()


def test_restitution_verifies_the_signed_pdf_it_copied(app: Flask) -> None:
    """The verification report is built from the bytes copied into the archive (read and
    checked once), not from a second read of the store: damage in between cannot break it."""
    rt = runtime(app)
    client_id = make_client(app)
    page = weasyprint.HTML(string="<p>Contrat CTR-2026-0001</p>").write_pdf()
    pdf = add_signature_fields(page, [SignatureFieldSpec("seal")])
    signed = sign_pdf(pdf, rt.seal_key(), SignSpec("seal", "Paraphe", utcnow()))
    sha256 = deposit_file(
        app,
        client_id,
        DocumentKind.SIGNED_CONTRACT,
        "CTR-2026-0001-signe",
        data=signed,
        filename="CTR-2026-0001-signe.pdf",
        retention=False,
    ).sha256
    reads: list[str] = []

    class DamagedAfterFirstRead(FilesystemBlobStore):
        """The store, whose blob is damaged after it was read (and copied) once."""

        def _reading(self, key: str) -> None:
            if key == sha256:
                if reads:
                    _damage(_blob(app, key), "mismatch")
                reads.append(key)

        def get(self, key: str) -> bytes:
            self._reading(key)
            return super().get(key)

        def open(self, key: str) -> BinaryIO:
            self._reading(key)
            return super().open(key)

    app.extensions["paraphe"] = replace(rt, store=DamagedAfterFirstRead(rt.settings.storage_dir))
    headers = {"Authorization": f"Bearer {make_token(app, Scope.RESTITUTION)}"}
    url = f"/api/v1/clients/{client_id}/restitution"
    built = app.test_client().post(url, headers=headers)
    assert built.status_code == 202, built.get_data(as_text=True)[:500]
    assert built.get_json()["status"] == "ready"
    response = app.test_client().get(url, headers=headers)

    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert reads == [sha256]
    with zipfile.ZipFile(io.BytesIO(response.data)) as zf:
        assert zf.read("contrats-signes/CTR-2026-0001-signe.pdf") == signed
        report = json.loads(zf.read("rapports-de-verification/CTR-2026-0001-signe.json"))
    assert report["all_ok"] is True
