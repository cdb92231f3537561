"""Contracts sent for signature and signed through the services, as the signing pages do
(setup only: the tests of the pages themselves go through HTTP)."""

from __future__ import annotations

import email
import email.message
import email.policy
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.contracts.models import ContractVersion
from app.contracts.printing import Countersigner
from app.contracts.queries import get_contract
from app.db import transaction, utcnow
from app.runtime import SealStamp
from app.signatures import codes, sending, signing_flow, tasks
from app.signatures.models import SignatureRequest, Signer
from app.tokens import token_hash
from signing import SigningError
from tests.conftest import csrf_from
from tests.factories.db import runtime, session_of
from tests.factories.sales import (
    make_client,
    make_contract,
    make_contracted_client,
    make_quote,
    publish_short_cgv,
)


def certified_for(app: Flask, version: ContractVersion, *, parallel: bool = False) -> bytes:
    """The version's document certified by the platform, as the send view does (these apps
    have no timestamp authority: no network call)."""
    rt = runtime(app)
    return sending.certify_document(
        rt.store.get(version.document.sha256),
        len(sending.signers_of_version(version, parallel=parallel)),
        rt.signing_key(),
        now=utcnow(),
        certifier=rt.settings.vendor.legal_name,
    )


def send_version_1(
    app: Flask, contract_id: int, *, parallel: bool = False, certified: bytes | None = None
) -> tuple[int, dict[str, str]]:
    """Send the contract's version 1 for signature, as ``certified`` (by default the version
    certified as the send view does); returns (request id, {email: token})."""
    rt = runtime(app)
    with transaction(rt.session_factory) as session:
        version = get_contract(session, contract_id).versions[0]
        request, invitations = sending.send_for_signature(
            session,
            rt.store,
            version=version,
            certified=certified_for(app, version, parallel=parallel)
            if certified is None
            else certified,
            now=utcnow(),
            actor="test",
            created_by_id=None,
            link_days=30,
            parallel=parallel,
        )
        return request.id, {i.signer.email: i.token for i in invitations}


def send_contract(app: Flask, contract_id: int) -> str:
    """Send version 1 for signature; return the first signer's link (/signature/<token>)."""
    _request_id, tokens = send_version_1(app, contract_id)
    return f"/signature/{next(iter(tokens.values()))}"


def authenticate_link(app: Flask, token: str) -> None:
    """Issue a one-time code and enter it, through the services (setup only)."""
    rt = runtime(app)
    secret = rt.settings.secret_key
    with transaction(rt.session_factory) as session:
        code = codes.issue_code(session, token, now=utcnow(), secret=secret).code
    with transaction(rt.session_factory) as session:
        check = codes.verify_code(
            session, token, code, now=utcnow(), secret=secret, ip=None, user_agent=None
        )
        assert check.ok


def signing_browser(app: Flask, token: str) -> tuple[FlaskClient, str]:
    """A browser that entered the link's one-time code (through the services: with a queue
    and no worker, the code's mail would wait), and the signing page's CSRF token."""
    authenticate_link(app, token)
    browser = app.test_client()
    with browser.session_transaction() as cookie:
        cookie["signing_auth"] = [token_hash(token)]
    page = browser.get(f"/signature/{token}")
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    return browser, csrf_from(page.get_data(as_text=True))


def consent_without_job(app: Flask, token: str) -> int:
    """The consent recorded as the signing page's POST does (the link's code entered before),
    its signature job not run (not yet, or lost): the signer's id."""
    return signing_flow.record_consent(
        runtime(app).collaborators(utcnow()),
        token,
        accepted_cgv=True,
        agreed=True,
        authenticated=True,
        ip="192.0.2.7",
        user_agent="pytest",
    ).signer_id


def sign_token(
    app: Flask,
    token: str,
    *,
    with_code: bool = True,
    ip: str = "192.0.2.7",
    user_agent: str = "pytest",
) -> signing_flow.SignResult:
    """Sign with `token` the way the POST handler and its job do, without HTTP: record the
    consent, then run the signature job here (the seal after it runs inline in the tests);
    `with_code` first enters a one-time code (the signing page requires one)."""
    if with_code:
        authenticate_link(app, token)
    collab = runtime(app).collaborators(utcnow())
    consent = signing_flow.record_consent(
        collab,
        token,
        accepted_cgv=True,
        agreed=True,
        authenticated=True,
        ip=ip,
        user_agent=user_agent,
    )
    result = signing_flow.apply_consented(collab, consent.signer_id)
    assert result is not None, "the consent's signature was already applied"
    tasks.after_signature(result)  # inline in the tests: the seal runs here
    return result


def sign_through_services(app: Flask, link: str) -> None:
    """Sign a link (/signature/<token>) the way the POST handler does (setup only)."""
    sign_token(app, link.rsplit("/", 1)[1], ip="127.0.0.1", user_agent="test")


def expire_link(app: Flask, link: str, *, ago: timedelta = timedelta(minutes=1)) -> None:
    token = link.rsplit("/", 1)[1]
    with transaction(runtime(app).session_factory) as session:
        signer = session.scalar(select(Signer).where(Signer.token_hash == token_hash(token)))
        assert signer is not None
        signer.token_expires_at = utcnow() - ago


def sent_link(app: Flask) -> str:
    """Publish the short CGV, make a client's contract and send it: the signer's link."""
    publish_short_cgv(app)
    return send_contract(app, make_contracted_client(app).contract_id)


def signer_of(app: Flask, link: str) -> Signer:
    """The signer a link (/signature/<token>) belongs to, detached from its session."""
    with session_of(app) as session:
        signer = session.scalar(
            select(Signer).where(Signer.token_hash == token_hash(link.rsplit("/", 1)[1]))
        )
        assert signer is not None
        session.expunge(signer)
        return signer


def signed_from_quote(app: Flask, quote_id: int, countersigner: Countersigner | None = None) -> int:
    """The quote's contract, sent and signed by the client (and `countersigner`, who signs
    second, when given: then the request waits for them); returns the contract id."""
    contract_id = make_contract(app, quote_id, countersigner)
    sign_through_services(app, send_contract(app, contract_id))
    return contract_id


def signed_contract(
    app: Flask, client_id: int | None = None, *, publish: bool = True, particular_terms: str = ""
) -> int:
    """A contract of `client_id` (a new client by default) signed by its client; `publish`
    first publishes the short CGV (a test that publishes its own says False)."""
    if publish:
        publish_short_cgv(app)
    client = make_client(app) if client_id is None else client_id
    return signed_from_quote(app, make_quote(app, client, particular_terms=particular_terms))


@dataclass(frozen=True)
class Signed:
    """A contract signed by its client and sealed by the platform, with every way in."""

    client_id: int
    contract_id: int
    request_id: int
    token: str
    download_token: str
    documents: dict[str, int]
    """Document ids by role: contract, signed, cgv, evidence_pdf, evidence_json."""


def completion_mail_texts(app: Flask) -> list[str]:
    """The bodies of the completion mails in the outbox, oldest first."""
    texts = []
    for path in sorted(runtime(app).settings.outbox_dir.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if "signé par toutes les parties" in str(message["Subject"]):
            body = message.get_body(preferencelist=("plain",))
            assert isinstance(body, email.message.EmailMessage)
            texts.append(body.get_content())
    return texts


def sign_completely(app: Flask) -> Signed:
    """Publish CGV 3.0, generate a contract, send it, let its client sign: the platform seals
    it and archives the signed PDF and the evidence file."""
    publish_short_cgv(app)
    assert app.test_client().get("/cgv/3.0.pdf").status_code == 200  # archives the CGV's PDF
    contracted = make_contracted_client(app)
    token = send_contract(app, contracted.contract_id).rsplit("/", 1)[1]
    result = sign_token(app, token)
    assert result.completed
    # the seal job (inline in the tests) mailed the signed document's link
    completion = completion_mail_texts(app)
    assert completion, "no completion mail in the outbox"
    match = re.search(r"/signature/document/([A-Za-z0-9_\-]{40,})\s", completion[-1])
    assert match, completion[-1]
    with transaction(runtime(app).session_factory) as session:
        request = session.scalars(select(SignatureRequest)).one()
        version = request.contract_version
        assert request.signed_document_id and request.evidence_document_id
        assert request.evidence_json_id and version.cgv_version.document_id
        documents = {
            "contract": version.document_id,
            "signed": request.signed_document_id,
            "cgv": version.cgv_version.document_id,
            "evidence_pdf": request.evidence_document_id,
            "evidence_json": request.evidence_json_id,
        }
        return Signed(
            contracted.client_id,
            contracted.contract_id,
            request.id,
            token,
            match.group(1),
            documents,
        )


@contextmanager
def sealing_with(app: Flask, stamp: SealStamp) -> Iterator[None]:
    """Until the block ends, the platform seal is applied by `stamp`: the runtime's seal
    collaborator (`Runtime.seal_stamp`) is replaced, then given back. Signatures and the
    evidence seal are not affected."""
    rt = runtime(app)
    working = rt.seal_stamp
    rt.seal_stamp = stamp
    try:
        yield
    finally:
        rt.seal_stamp = working


def seal_failing(
    app: Flask, error: str = "horodatage indisponible"
) -> AbstractContextManager[None]:
    """Until the block ends, the platform seal fails as with a timestamp authority that is
    down (`SigningError(error)`)."""

    def tsa_down(*_args: object) -> bytes:
        raise SigningError(error)

    return sealing_with(app, tsa_down)
