"""The signature workflow with a timestamp authority, against the certomancer PKI over HTTP
(TSA, OCSP, CRL): the platform certifies the contract at send time (DocMDP P=2), each signer's
signature is timestamped (B-T), the platform seal is PAdES B-LTA. With the TSA down, a
completed request stays unsealed (nothing half-written, the reason logged and shown to the
admin) and `paraphe signatures sweep` seals it once the TSA is back."""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import replace
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from flask import Flask
from flask.testing import FlaskClient
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESStatus
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager

from app.auth.models import Role
from app.config import Settings
from app.documents.models import Document
from app.pki import trust_roots
from app.signatures import evidence, mails, seal, tasks
from app.signatures.models import RequestStatus, SignatureRequest, Signer, SignerStatus
from signing import (
    ModificationLevel,
    PadesLevel,
    SignatureKind,
    SigningKey,
    SignSpec,
    TrustServices,
    platform_seal,
    verify_pdf,
)
from tests.conftest import csrf_from
from tests.factories import (
    login_as,
    make_client,
    make_contract,
    make_quote,
    publish_short_cgv,
    runtime,
    session_of,
)
from tests.factories.signing import sealing_with
from tests.integration.fixtures_security import logged_in_csrf
from tests.integration.helpers import authenticate, body_text, outbox_messages, signing_link
from tests.integration.test_signature_workflow import VENDOR
from tests.pki.fixtures import TestPki

# certomancer (TSA, OCSP, CRL) runs on the real clock: see the real_clock marker.
pytestmark = pytest.mark.real_clock

PDFSIG = "/usr/bin/pdfsig"
FIELDS = ["certification", "signature-1", "signature-2", "cachet-plateforme"]


@pytest.fixture
def lta_app(
    settings: Settings, test_pki: TestPki, tmp_path: Path, make_app: Callable[[Settings], Flask]
) -> Iterator[Flask]:
    """The app sealing with the certomancer seal (PKCS#12), trusting its root, timestamping
    with its TSA."""
    pki_dir = tmp_path / "pki"
    (pki_dir / "trust").mkdir(parents=True)
    root = x509.load_der_x509_certificate(test_pki.root_der)
    (pki_dir / "trust" / "certomancer-root.pem").write_bytes(root.public_bytes(Encoding.PEM))
    application = make_app(
        replace(
            settings,
            pki_dir=pki_dir,
            seal_pkcs12_path=test_pki.seal_pfx,
            seal_pkcs12_passphrase=test_pki.passphrase.decode(),
            tsa_url=test_pki.tsa_url,
        )
    )
    yield application
    rt = application.extensions["paraphe"]
    trust = rt.trust_services()
    assert trust is not None
    trust.close()


def send_and_sign(app: Flask) -> int:
    """A sequential two-signer request sent and signed through the HTTP interface."""
    publish_short_cgv(app)
    contract_id = make_contract(app, make_quote(app, make_client(app)), VENDOR)
    sales = login_as(app, Role.SALES)
    sent = sales.post(
        f"/contrats/{contract_id}/v1/envoyer", data={"csrf_token": logged_in_csrf(sales)}
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)[:500]
    outbox = app.extensions["paraphe"].settings.outbox_dir
    for to in ("zoe@example.fr", VENDOR.email):
        invitation = [
            m
            for m in outbox_messages(outbox)
            if m["To"] == to and "ouvrez ce lien personnel" in body_text(m)
        ][-1]
        sign_link(app, app.test_client(), signing_link(invitation), to)
    with session_of(app) as session:
        request = session.query(SignatureRequest).order_by(SignatureRequest.id.desc()).first()
        assert request is not None and request.status is RequestStatus.COMPLETED
        return request.id


def sign_link(app: Flask, browser: FlaskClient, link: str, to: str) -> None:
    authenticate(app, browser, link, to)
    csrf = csrf_from(browser.get(link).get_data(as_text=True))
    done = browser.post(link, data={"csrf_token": csrf, "accept_cgv": "oui", "agree": "oui"})
    assert done.status_code == 302, done.get_data(as_text=True)[:500]


def _stored_document(
    app: Flask, request_id: int, pick: Callable[[SignatureRequest], Document | None]
) -> bytes | None:
    """The bytes of the request's document that ``pick`` names; None while it has none."""
    with session_of(app) as session:
        request = session.get(SignatureRequest, request_id)
        assert request is not None
        document = pick(request)
        if document is None:
            return None
        return runtime(app).store.get(document.sha256)


def signed_pdf(app: Flask, request_id: int) -> bytes | None:
    return _stored_document(app, request_id, lambda request: request.signed_document)


def test_certified_timestamped_signatures_and_b_lta_seal(lta_app: Flask, test_pki: TestPki) -> None:
    request_id = send_and_sign(lta_app)
    pdf = signed_pdf(lta_app, request_id)
    assert pdf is not None

    # our verifier: every signature intact, valid, trusted, timestamped, at most form filling
    report = verify_pdf(pdf, trust_roots(lta_app.extensions["paraphe"].settings))
    assert report.all_ok, [s.problem for s in report.signatures]
    signatures = [s for s in report.signatures if s.kind is SignatureKind.SIGNATURE]
    timestamps = [s for s in report.signatures if s.kind is SignatureKind.DOCUMENT_TIMESTAMP]
    assert [s.field_name for s in signatures] == FIELDS and len(timestamps) == 1
    for sig in signatures:
        assert sig.intact and sig.valid and sig.trusted, sig
        assert sig.docmdp_ok is not False
        assert sig.modification_level in {
            None,
            ModificationLevel.NONE,
            ModificationLevel.LTA_UPDATES,
            ModificationLevel.FORM_FILLING,
        }
    # the signers' signatures are B-T (timestamped by the TSA), the seal B-LTA
    assert all(s.timestamped for s in signatures[1:])
    assert signatures[-1].pades_level is PadesLevel.B_LTA
    assert report.signatures[-1].kind is SignatureKind.DOCUMENT_TIMESTAMP

    # the certification: first signature, DocMDP P=2 (form filling)
    reader = PdfFileReader(BytesIO(pdf))
    certification = reader.embedded_signatures[0]
    assert certification.field_name == "certification"
    assert certification.docmdp_level is MDPPerm.FILL_FORMS

    # the last revision, the document timestamp, covers the whole file
    last = reader.embedded_signatures[-1]
    assert last.sig_object["/Type"] == "/DocTimeStamp"
    assert last.byte_range[-2] + last.byte_range[-1] == len(pdf)

    # poppler: each signature valid (it cannot verify document timestamps, poppler 22)
    path = Path(lta_app.extensions["paraphe"].settings.instance_dir) / "sealed.pdf"
    path.write_bytes(pdf)
    result = subprocess.run([PDFSIG, str(path)], capture_output=True, text=True, check=False)
    blocks = [b for b in result.stdout.split("Signature #")[1:] if "ETSI.CAdES.detached" in b]
    assert len(blocks) == len(FIELDS), result.stdout
    for block in blocks:
        assert "Signature Validation: Signature is Valid." in block, block

    # pyHanko's strict offline AdES long-term validation: everything needed is in the file
    spec = offline_lta_spec(test_pki)
    regular = reader.embedded_regular_signatures
    assert [s.field_name for s in regular] == FIELDS
    for sig in regular:
        outcome = asyncio.run(ades_lta_validation(sig, spec))
        assert outcome.ades_subindic.status is AdESStatus.PASSED, (
            sig.field_name,
            outcome.ades_subindic,
            outcome.api_status and outcome.api_status.pretty_print_details(),
        )


def offline_lta_spec(test_pki: TestPki) -> PdfSignatureValidationSpec:
    """Strict AdES validation trusting the test root, revocation data required, local only."""
    return PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(
                    trust_roots=[asn1_x509.Certificate.load(test_pki.root_der)]
                ),
                revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
        )
    )


def test_tsa_down_leaves_the_request_unsealed_and_the_sweep_seals_it_later(
    lta_app: Flask, test_pki: TestPki, caplog: pytest.LogCaptureFixture
) -> None:
    publish_short_cgv(lta_app)
    contract_id = make_contract(lta_app, make_quote(lta_app, make_client(lta_app)), VENDOR)
    sales = login_as(lta_app, Role.SALES)
    sent = sales.post(
        f"/contrats/{contract_id}/v1/envoyer", data={"csrf_token": logged_in_csrf(sales)}
    )
    assert sent.status_code == 302
    outbox = lta_app.extensions["paraphe"].settings.outbox_dir
    links = {
        m["To"]: signing_link(m)
        for m in outbox_messages(outbox)
        if "ouvrez ce lien personnel" in body_text(m)
    }
    sign_link(lta_app, lta_app.test_client(), links["zoe@example.fr"], "zoe@example.fr")
    vendor_link = next(
        signing_link(m)
        for m in outbox_messages(outbox)
        if m["To"] == VENDOR.email and "ouvrez ce lien personnel" in body_text(m)
    )
    vendor = lta_app.test_client()
    authenticate(lta_app, vendor, vendor_link, VENDOR.email)
    csrf = csrf_from(vendor.get(vendor_link).get_data(as_text=True))
    with session_of(lta_app) as session:
        request = session.query(SignatureRequest).order_by(SignatureRequest.id.desc()).first()
        assert request is not None
        request_id = request.id
        before = request.current_sha256

    try:
        test_pki.server.stop()
        # the last signer's own signature needs the TSA too: the consent is recorded and the
        # page answered at once; the job fails, counted on the signer, nothing signed
        consented = vendor.post(
            vendor_link, data={"csrf_token": csrf, "accept_cgv": "oui", "agree": "oui"}
        )
        assert consented.status_code == 302
        with session_of(lta_app) as session:
            request = session.get(SignatureRequest, request_id)
            assert request is not None
            assert request.status is RequestStatus.PARTIALLY_SIGNED
            assert request.current_sha256 == before
            [signer] = [s for s in request.signers if s.email == VENDOR.email]
            assert signer.status is SignerStatus.SIGNING and signer.sign_attempts == 1
            assert signer.sign_error and signer.consented_at is not None
            signer_id, consented_at = signer.id, signer.consented_at
        late = vendor.get(consented.headers["Location"]).get_data(as_text=True)
        assert "relancée automatiquement" in late.replace("&#39;", "'")
    finally:
        test_pki.server.start()

    # signed with the TSA up; the TSA goes down before the seal: completed but unsealed
    def tsa_down_then_seal(
        pdf: bytes, key: SigningKey, spec: SignSpec, trust: TrustServices | None
    ) -> bytes:
        test_pki.server.stop()
        return platform_seal(pdf, key, spec, trust)

    try:
        with (
            sealing_with(lta_app, tsa_down_then_seal),
            caplog.at_level(logging.WARNING, logger="app.signatures.workflow"),
        ):
            # the queue's retry (here at once) applies it with the TSA up
            tasks.sign_consented.enqueue(signer_id)
        with session_of(lta_app) as session:
            signed_by = session.get(Signer, signer_id)
            assert signed_by is not None and signed_by.status is SignerStatus.SIGNED
            assert signed_by.signed_at == consented_at  # the consent's time, not the retry's
        with session_of(lta_app) as session:
            request = session.get(SignatureRequest, request_id)
            assert request is not None and request.status is RequestStatus.COMPLETED
            assert request.signed_document_id is None and request.sealed_at is None
            assert request.seal_attempts == 1
            # certomancer serves the TSA, OCSP and CRLs together: with it down, collecting the
            # revocation data (the step before the timestamps) is what fails first
            assert request.seal_error
            assert request.seal_error.startswith("could not collect validation data")
            (stuck,) = seal.stuck_requests(session)
            assert stuck.id == request_id
        assert any(
            f"request {request_id} completed but not sealed" in r.getMessage()
            and "could not collect validation data" in r.getMessage()
            for r in caplog.records
        )
        admin = login_as(lta_app, Role.ADMIN)
        page = admin.get("/demandes-signature/cachet-en-attente").get_data(as_text=True)
        assert re.search(rf"<td>{request_id}</td>", page)
        assert "could not collect validation data" in page

        # the sweep, TSA still down: still unsealed, one more attempt, exit status 1
        runner = lta_app.test_cli_runner()
        failed = runner.invoke(args=["signatures", "sweep"])
        assert failed.exit_code == 1 and "0\u00a0demande scellée, 1 en échec" in failed.output
        assert signed_pdf(lta_app, request_id) is None
    finally:
        test_pki.server.start()

    swept = runner.invoke(args=["signatures", "sweep"])
    assert swept.exit_code == 0, swept.output
    assert "1\u00a0demande scellée, 0 en échec" in swept.output
    pdf = signed_pdf(lta_app, request_id)
    assert pdf is not None
    report = verify_pdf(pdf, trust_roots(lta_app.extensions["paraphe"].settings))
    assert report.all_ok, [s.problem for s in report.signatures]
    assert [s.field_name for s in report.signatures if s.kind is SignatureKind.SIGNATURE] == FIELDS
    assert report.signatures[-1].kind is SignatureKind.DOCUMENT_TIMESTAMP
    with session_of(lta_app) as session:
        assert seal.stuck_requests(session) == []


def evidence_pdf(app: Flask, request_id: int) -> bytes | None:
    return _stored_document(app, request_id, lambda request: request.evidence_document)


def test_evidence_file_is_sealed_b_lta_like_the_contract_and_fails_closed(
    lta_app: Flask, test_pki: TestPki, caplog: pytest.LogCaptureFixture
) -> None:
    # the TSA (with the OCSP responder and CRLs) goes down right after the contract's seal is
    # recorded: the evidence cannot be sealed, and is not archived unsealed or at B-B
    real_completion_mails = mails.completion_mails

    def sealed_then_tsa_down(*args: object, **kwargs: object) -> object:
        test_pki.server.stop()
        return real_completion_mails(*args, **kwargs)  # type: ignore[arg-type]

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(mails, "completion_mails", sealed_then_tsa_down)
            with caplog.at_level(logging.WARNING, logger="app.signatures.workflow"):
                request_id = send_and_sign(lta_app)
        assert signed_pdf(lta_app, request_id) is not None
        assert evidence_pdf(lta_app, request_id) is None
        assert any(
            f"evidence of request {request_id} not sealed" in r.getMessage() for r in caplog.records
        )
        with session_of(lta_app) as session:
            assert evidence.missing_evidence(session) == [request_id]
        still_down = lta_app.test_cli_runner().invoke(args=["signatures", "sweep"])
        assert still_down.exit_code == 1, still_down.output
        assert evidence_pdf(lta_app, request_id) is None
    finally:
        test_pki.server.start()

    swept = lta_app.test_cli_runner().invoke(args=["signatures", "sweep"])
    assert swept.exit_code == 0, swept.output
    pdf = evidence_pdf(lta_app, request_id)
    assert pdf is not None

    # our verifier (pyHanko's validator underneath): intact, valid, trusted, timestamped, B-LTA
    report = verify_pdf(pdf, trust_roots(lta_app.extensions["paraphe"].settings))
    assert report.all_ok, [s.problem for s in report.signatures]
    seal, timestamp = report.signatures
    assert seal.field_name == "cachet-preuve" and seal.kind is SignatureKind.SIGNATURE
    assert seal.intact and seal.valid and seal.trusted and seal.timestamped
    assert seal.pades_level is PadesLevel.B_LTA
    assert timestamp.kind is SignatureKind.DOCUMENT_TIMESTAMP and timestamp.trusted
    reader = PdfFileReader(BytesIO(pdf))
    last = reader.embedded_signatures[-1]
    assert last.sig_object["/Type"] == "/DocTimeStamp"
    assert last.byte_range[-2] + last.byte_range[-1] == len(pdf)
    # LTV-enabled: its validation data is in the DSS (certificates, OCSP responses, CRLs) ...
    dss = reader.root["/DSS"]
    assert len(dss["/Certs"]) >= 3 and len(dss["/OCSPs"]) >= 1 and len(dss["/CRLs"]) >= 1
    # ... and strict offline AdES long-term validation passes with nothing fetched
    (regular,) = reader.embedded_regular_signatures
    outcome = asyncio.run(ades_lta_validation(regular, offline_lta_spec(test_pki)))
    assert outcome.ades_subindic.status is AdESStatus.PASSED, (
        outcome.ades_subindic,
        outcome.api_status and outcome.api_status.pretty_print_details(),
    )

    # poppler agrees the seal is valid
    path = Path(lta_app.extensions["paraphe"].settings.instance_dir) / "preuve.pdf"
    path.write_bytes(pdf)
    result = subprocess.run([PDFSIG, str(path)], capture_output=True, text=True, check=False)
    blocks = [b for b in result.stdout.split("Signature #")[1:] if "ETSI.CAdES.detached" in b]
    assert len(blocks) == 1, result.stdout
    assert "Signature Validation: Signature is Valid." in blocks[0], blocks[0]
    with session_of(lta_app) as session:
        assert evidence.missing_evidence(session) == []
