"""A contract signed end to end (through the services, as the signing page does), for the
tests that then read, damage or scrub what it left in the archive."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select

from app.db import transaction, utcnow
from app.signatures import workflow
from app.signatures.models import SignatureRequest
from tests.integration.fixtures_security import (
    authenticate_link,
    make_contracted_client,
    publish_short_cgv,
    runtime,
    send_contract,
)


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


def sign_completely(app: Flask) -> Signed:
    """Publish CGV 3.0, generate a contract, send it, let its client sign: the platform seals
    it and archives the signed PDF and the evidence file."""
    publish_short_cgv(app)
    assert app.test_client().get("/cgv/3.0.pdf").status_code == 200  # archives the CGV's PDF
    contracted = make_contracted_client(app)
    link = send_contract(app, contracted.contract_id)
    token = link.rsplit("/", 1)[1]
    authenticate_link(app, token)
    result = workflow.sign_with_link(
        runtime(app).collaborators(utcnow()),
        token,
        accepted_cgv=True,
        agreed=True,
        authenticated=True,
        ip="192.0.2.7",
        user_agent="pytest",
    )
    assert result.completed and result.sealed
    match = re.search(r"/signature/document/([A-Za-z0-9_\-]{40,})\s", result.mails[0].text)
    assert match, result.mails[0].text
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
