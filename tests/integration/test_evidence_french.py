"""The evidence file's PDF is read by a person: French statuses, dates in words (Paris time)
and the journal's events as sentences, never a stored key (`signature.requested`), a raw
status ("(completed)") or an ISO timestamp with microseconds. Its JSON keeps the raw values."""

from __future__ import annotations

import json
import re
import subprocess

from flask import Flask
from sqlalchemy import select

from app.auth.models import Role
from app.rendering.labels import EVIDENCE_SENTENCES, STATUS_LABELS
from app.signatures.models import SignatureRequest
from tests.factories import login_as, sent_link, session_of, sign_through_services

ISO = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}|\.\d{6}")
SENTENCE = re.compile(r"Le \d{1,2}(er)? [a-zéû]+ \d{4} à \d{1,2} h \d{2}, ")


def test_the_evidence_pdf_tells_the_events_in_french(app: Flask) -> None:
    sign_through_services(app, sent_link(app))
    with session_of(app) as session:
        request = session.scalars(select(SignatureRequest)).one()
        assert request.evidence_document_id is not None
        request_id = request.id
    sales = login_as(app, Role.SALES)
    evidence = json.loads(sales.get(f"/demandes-signature/{request_id}/preuve.json").data)
    pdf = sales.get(f"/demandes-signature/{request_id}/preuve.pdf").data
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    flat = " ".join(text.split())

    actions = {e["action"] for e in evidence["events"]}
    assert {"signature.requested", "signature.authenticated", "signature.signed"} <= actions
    for action in actions:
        assert action not in flat
    # every stored status value as a whole word: none printed, the French label instead
    statuses = {v for t in STATUS_LABELS.values() for v in t}
    printed = {w for w in re.findall(r"[a-z_]+", flat) if w in statuses}
    assert not printed, printed
    assert f"({evidence['request']['status']})" not in flat
    assert "(signée par tous)" in flat
    assert not ISO.search(flat), ISO.search(flat)
    # the one-time code, as a sentence naming the signer and the time in words
    name = evidence["signers"][0]["name"]
    said = EVIDENCE_SENTENCES["signature.authenticated"].format(who=name)
    assert re.search(SENTENCE.pattern + re.escape(said) + r"\.", flat), flat[-2000:]
    assert len(SENTENCE.findall(flat)) == len(evidence["events"])
