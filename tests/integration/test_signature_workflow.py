"""Several signers per request: the client's signer and the vendor's countersigner, in order
or in parallel; every field created at send; the platform seal last; concurrent signers of a
parallel group both land; a crash while signing or sealing leaves nothing half-written."""

from __future__ import annotations

import dataclasses
from email.header import decode_header, make_header

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from app.audit import services as audit
from app.contracts.models import VersionStatus
from app.contracts.printing import Countersigner
from app.db import transaction, utcnow
from app.documents.models import Document, DocumentKind
from app.pki import trust_roots
from app.signatures import seal, signature, signing_flow, tasks, workflow
from app.signatures.errors import StaleRevision
from app.signatures.models import RequestStatus, SignatureRequest, Signer, SignerStatus
from signing import ModificationLevel, SigningError, SigningKey, verify_pdf
from tests.factories import (
    authenticate_link,
    count,
    make_client,
    make_contract,
    make_quote,
    publish_short_cgv,
    runtime,
    send_version_1,
    session_of,
    sign_token,
)
from tests.factories.signing import seal_failing
from tests.integration.helpers import outbox_messages
from tests.together import run_together

VENDOR = Countersigner(name="Søren Ødegård", email="soren@vendor.example")


def send(app: Flask, *, parallel: bool) -> tuple[int, dict[str, str]]:
    """A two-signer contract sent for signature; returns (request id, {email: token})."""
    publish_short_cgv(app)
    contract_id = make_contract(app, make_quote(app, make_client(app)), VENDOR)
    return send_version_1(app, contract_id, parallel=parallel)


def sign(app: Flask, token: str, *, with_code: bool = True) -> signing_flow.SignResult:
    return sign_token(app, token, with_code=with_code)


def state(app: Flask, request_id: int) -> tuple[RequestStatus, dict[str, SignerStatus]]:
    with session_of(app) as session:
        request = session.get(SignatureRequest, request_id)
        assert request is not None
        return request.status, {s.email: s.status for s in request.signers}


def current_pdf(app: Flask, request_id: int) -> bytes:
    with session_of(app) as session:
        request = session.get(SignatureRequest, request_id)
        assert request is not None and request.current_sha256
        return runtime(app).store.get(request.current_sha256)


def check_sealed(app: Flask, request_id: int) -> bytes:
    """The archived signed contract: the platform's certification, client, vendor, then seal,
    all intact, form filling."""
    with session_of(app) as session:
        request = session.get(SignatureRequest, request_id)
        assert request is not None and request.status is RequestStatus.COMPLETED
        assert request.signed_document is not None and request.sealed_at is not None
        assert request.contract_version.status is VersionStatus.SIGNED
        assert request.current_sha256 == request.signed_document.sha256
        data = runtime(app).store.get(request.signed_document.sha256)
    report = verify_pdf(data, trust_roots(runtime(app).settings))
    assert report.all_intact_and_valid
    names = sorted(s.field_name for s in report.signatures)
    assert names == ["cachet-plateforme", "certification", "signature-1", "signature-2"]
    assert report.signatures[0].field_name == "certification"
    for sig in report.signatures[:-1]:
        assert sig.modification_level in (ModificationLevel.NONE, ModificationLevel.FORM_FILLING)
    return data


def test_sequential_client_then_vendor_then_seal(app: Flask) -> None:
    request_id, tokens = send(app, parallel=False)
    # only the first group is invited; the countersigner waits for its turn, with no link
    assert list(tokens) == ["zoe@example.fr"]
    assert state(app, request_id) == (
        RequestStatus.SENT,
        {"zoe@example.fr": SignerStatus.NOTIFIED, VENDOR.email: SignerStatus.PENDING},
    )
    # the first revision, the platform's certification, already holds every field: two
    # visible boxes on the last page + the seal (+ the certification's own invisible field)
    prepared = PdfReader(__import__("io").BytesIO(current_pdf(app, request_id)))
    fields = prepared.get_fields() or {}
    assert set(fields) == {"certification", "signature-1", "signature-2", "cachet-plateforme"}
    (certification,) = verify_pdf(
        current_pdf(app, request_id), trust_roots(runtime(app).settings)
    ).signatures
    assert certification.field_name == "certification" and certification.ok
    last_page_annots = [a.get_object() for a in prepared.pages[-1].get("/Annots", [])]
    boxes = {a["/T"]: [round(float(v)) for v in a["/Rect"]] for a in last_page_annots}
    from app.rendering.geometry import signature_boxes

    expected = [[round(v) for v in box] for box in signature_boxes(2)]
    assert boxes["signature-1"] == expected[0] and boxes["signature-2"] == expected[1]

    first = sign(app, tokens["zoe@example.fr"])
    assert not first.completed and [m.to for m in first.mails] == [VENDOR.email]
    assert state(app, request_id) == (
        RequestStatus.PARTIALLY_SIGNED,
        {"zoe@example.fr": SignerStatus.SIGNED, VENDOR.email: SignerStatus.NOTIFIED},
    )
    vendor_token = first.mails[0].text.split("/signature/")[1].split()[0]
    second = sign(app, vendor_token)
    assert second.completed and second.mails == []
    # the seal job (inline here) mailed every signer the signed document's link
    assert sorted(completion_mails_to(app)) == sorted(["zoe@example.fr", VENDOR.email])
    check_sealed(app, request_id)
    assert count(app, Document, Document.kind == DocumentKind.SIGNED_CONTRACT) == 1


def completion_mails_to(app: Flask) -> list[str]:
    return [
        str(m["To"])
        for m in outbox_messages(runtime(app).settings.outbox_dir)
        if "signé par toutes les parties" in str(make_header(decode_header(m["Subject"])))
    ]


def test_parallel_group_both_invited_and_a_stale_signature_is_reapplied(app: Flask) -> None:
    request_id, tokens = send(app, parallel=True)
    assert sorted(tokens) == sorted(["zoe@example.fr", VENDOR.email])
    rt = runtime(app)
    now = utcnow()
    prepared = {}
    for email, token in tokens.items():
        authenticate_link(app, token)
        consent = signing_flow.record_consent(
            rt.collaborators(now),
            token,
            accepted_cgv=True,
            agreed=True,
            authenticated=True,
            ip=None,
            user_agent=None,
        )
        with transaction(rt.session_factory) as session:
            ready = signature.prepare_signature(session, rt.store, consent.signer_id, now=now)
        assert ready is not None
        prepared[email] = ready
    # both signed the same revision; the first to record wins, the second finds it moved
    signed = {e: signature.apply_signature(p, rt.seal_key()) for e, p in prepared.items()}
    with transaction(rt.session_factory) as session:
        signature.record_signature(
            session, rt.store, prepared[VENDOR.email], signed[VENDOR.email], now=now, link_days=30
        )
    with pytest.raises(StaleRevision), transaction(rt.session_factory) as session:
        signature.record_signature(
            session,
            rt.store,
            prepared["zoe@example.fr"],
            signed["zoe@example.fr"],
            now=now,
            link_days=30,
        )
    assert state(app, request_id)[0] is RequestStatus.PARTIALLY_SIGNED
    # the job (its retry) re-applies the client's signature on the latest revision
    tasks.sign_consented.run(prepared["zoe@example.fr"].signer_id)
    assert state(app, request_id)[0] is RequestStatus.COMPLETED
    check_sealed(app, request_id)


@pytest.mark.committed_db  # threads on their own connections
def test_two_parallel_signers_at_the_same_moment_both_land(app: Flask) -> None:
    request_id, tokens = send(app, parallel=True)
    invited = list(tokens.items())

    def run(n: int) -> tuple[str, signing_flow.SignResult]:
        email, token = invited[n]
        with app.app_context():
            return email, sign(app, token)

    results = dict(run_together(len(invited), run))
    assert sorted(r.completed for r in results.values()) == [False, True]
    # one seal and one set of completion mails, whichever thread enqueued it
    assert sorted(completion_mails_to(app)) == sorted(tokens)
    check_sealed(app, request_id)
    with session_of(app) as session:
        signers = session.scalars(select(Signer).where(Signer.request_id == request_id)).all()
        assert all(s.status is SignerStatus.SIGNED for s in signers)


def test_a_crash_while_signing_leaves_the_request_before(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id, tokens = send(app, parallel=False)
    before = current_pdf(app, request_id)
    authenticate_link(app, tokens["zoe@example.fr"])

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("process killed")

    monkeypatch.setattr(audit, "record", crash)
    with pytest.raises(RuntimeError, match="process killed"):
        sign(app, tokens["zoe@example.fr"], with_code=False)
    monkeypatch.undo()
    assert current_pdf(app, request_id) == before
    assert state(app, request_id)[1]["zoe@example.fr"] is SignerStatus.AUTHENTICATED
    # and a retry works
    assert not sign(app, tokens["zoe@example.fr"], with_code=False).completed


def test_a_failed_seal_is_recorded_listed_and_completed_by_the_sweeper(app: Flask) -> None:
    request_id, tokens = send(app, parallel=True)

    with seal_failing(app, "TSA injoignable"):
        results = [sign(app, token) for token in tokens.values()]
    assert results[-1].completed and completion_mails_to(app) == []
    with session_of(app) as session:
        (stuck,) = seal.stuck_requests(session)
        assert stuck.id == request_id and stuck.seal_attempts == 1
        assert stuck.seal_error == "TSA injoignable"

    def key_unavailable() -> SigningKey:
        raise SigningError("TSA injoignable")

    collab = runtime(app).collaborators(utcnow())
    failed = workflow.sweep(dataclasses.replace(collab, signing_key=key_unavailable))
    assert failed.failed == [request_id] and failed.sealed == []

    swept = workflow.sweep(runtime(app).collaborators(utcnow()))
    assert swept.sealed == [request_id] and swept.failed == []
    assert sorted(m.to for m in swept.mails) == sorted(tokens)
    check_sealed(app, request_id)
    with session_of(app) as session:
        assert seal.stuck_requests(session) == []
    again = workflow.sweep(runtime(app).collaborators(utcnow()))
    assert again.sealed == [] and again.mails == []


def test_evidence_file_is_sealed_archived_and_downloadable(app: Flask) -> None:
    import json

    from app.auth.models import Role
    from tests.factories import login_as

    request_id, tokens = send(app, parallel=True)
    for token in tokens.values():
        sign(app, token)
    with session_of(app) as session:
        request = session.get(SignatureRequest, request_id)
        assert request is not None and request.evidence_document is not None
        assert request.evidence_json_id is not None
        sealed_sha = request.signed_document.sha256 if request.signed_document else None
        contract_id = request.contract_version.contract_id
    for role in (Role.SALES, Role.ARCHIVIST):
        if role is Role.SALES:
            browser = login_as(app, role)
        else:
            from tests.factories import login, make_fast_user

            browser = app.test_client()
            login(browser, make_fast_user(app, role, "archives@example.test"))
        as_json = browser.get(f"/demandes-signature/{request_id}/preuve.json")
        assert as_json.status_code == 200 and as_json.mimetype == "application/json"
        as_pdf = browser.get(f"/demandes-signature/{request_id}/preuve.pdf")
        assert as_pdf.status_code == 200 and as_pdf.mimetype == "application/pdf"
    page = browser.get(f"/contrats/{contract_id}").get_data(as_text=True)
    assert f'id="evidence-{request_id}"' in page
    evidence = json.loads(as_json.data)
    docs = evidence["documents"]
    assert docs["sealed_sha256"] == sealed_sha
    # the chain of revisions: prepared → one signature → the other → (seal)
    befores = {s["document_sha256_before"] for s in evidence["signers"]}
    afters = {s["document_sha256_after"] for s in evidence["signers"]}
    assert docs["prepared_sha256"] in befores and len(befores & afters) == 1
    for signer in evidence["signers"]:
        assert signer["ip"] == "192.0.2.7" and signer["user_agent"] == "pytest"
        assert signer["authentication"]["code_verified_at"] and signer["signed_at"]
        # only the client's signer accepts the CGV; the countersigner gives its agreement
        cgv_accepted = "version 3.0 du 1er janvier 2024" in signer["consent"]
        assert cgv_accepted is (signer["party"] == "client"), signer
    assert evidence["cgv"]["label"] == "3.0" and len(evidence["cgv"]["sha256"]) == 64
    actions = [e["action"] for e in evidence["events"]]
    for expected in (
        "signature.requested",
        "signature.code_sent",
        "signature.authenticated",
        "signature.signed",
        "signature.sealed",
    ):
        assert expected in actions
    report = verify_pdf(as_pdf.data, trust_roots(runtime(app).settings))
    assert report.all_ok and [s.field_name for s in report.signatures] == ["cachet-preuve"]
    text = " ".join(
        p.extract_text() for p in PdfReader(__import__("io").BytesIO(as_pdf.data)).pages
    )
    assert "Søren Ødegård" in text and "Dossier de preuve" in text
