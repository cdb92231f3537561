"""Integrity checks an operator runs: `storage scrub` over the blob store and `audit verify`
over the journal, and what an API read of a damaged document answers."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.archive.services import scrub as archive
from app.audit import services as audit
from app.audit.models import AuditEvent
from app.auth.models import Scope
from app.contracts.printing import Countersigner
from app.db import transaction
from app.documents.models import Document, DocumentKind
from app.signatures.models import RequestStatus, SignatureRequest
from storage import FilesystemBlobStore
from tests.factories import (
    deposit_file,
    make_client,
    make_contract,
    make_quote,
    make_token,
    publish_short_cgv,
    runtime,
    send_contract,
    sign_completely,
    signed_from_quote,
)
from tests.factories.audit import audit_command
from tests.factories.audit import record_reads as _journal
from tests.factories.db import execute_sql

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _deposit(
    app: Flask, reference: str, data: bytes, kind: DocumentKind = DocumentKind.INVOICE
) -> tuple[int, str]:
    document = deposit_file(app, None, kind, reference, data=data, now=T0, retention=False)
    return document.id, document.sha256


def _blob_path(app: Flask, sha256: str) -> Path:
    store = app.extensions["paraphe"].store
    assert isinstance(store, FilesystemBlobStore)
    return store.root / sha256[:2] / sha256[2:4] / sha256


def _corrupt(app: Flask, sha256: str) -> None:
    path = _blob_path(app, sha256)
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit
    path.write_bytes(bytes(data))


def test_scrub_reports_mismatch_missing_and_orphan(app: Flask) -> None:
    runner = app.test_cli_runner()
    _good_id, _good = _deposit(app, "FAC-1", b"%PDF-1.7 facture une" * 100)
    _bad_id, bad = _deposit(app, "FAC-2", b"%PDF-1.7 facture deux" * 100)
    gone_id, gone = _deposit(app, "FAC-3", b"%PDF-1.7 facture trois" * 100)

    clean = runner.invoke(args=["storage", "scrub"])
    assert clean.exit_code == 0, clean.output
    assert "3\u00a0fichiers vérifiés" in clean.output and "Aucun problème" in clean.output

    _corrupt(app, bad)
    _blob_path(app, gone).unlink()
    orphan = app.extensions["paraphe"].store.put(b"sans document").sha256

    result = runner.invoke(args=["storage", "scrub"])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert f"ALTÉRÉ    {bad} (document n° {_bad_id})" in lines
    assert f"MANQUANT  {gone} (document n° {gone_id})" in lines
    assert f"ORPHELIN  {orphan} (rien ne le référence : document, révision, ancre)" in lines
    assert not any(_good in line for line in lines)
    assert "1\u00a0altéré, 1\u00a0manquant, 1\u00a0orphelin" in result.stderr


def _scrub(app: Flask) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["storage", "scrub"])
    return result.exit_code, result.stdout


def test_scrub_is_silent_after_a_complete_signature_and_reports_a_true_orphan(
    app: Flask,
) -> None:
    """The prepared PDF and the PDF after each signature are blobs of their own: evidence of
    each step, named by the journal, never orphans."""
    sign_completely(app)
    code, output = _scrub(app)
    assert code == 0, output
    assert "Aucun problème" in output
    assert not any(word in output for word in ("ORPHELIN", "MANQUANT", "ALTÉRÉ"))

    orphan = runtime(app).store.put(b"ecrit par une transaction qui n'a pas abouti").sha256
    code, output = _scrub(app)
    assert code == 1
    assert (
        output.splitlines().count(
            f"ORPHELIN  {orphan} (rien ne le référence : document, révision, ancre)"
        )
        == 1
    )
    assert sum("ORPHELIN" in line for line in output.splitlines()) == 1

    # A lost intermediate revision is evidence lost: reported as missing, with who names it.
    with transaction(runtime(app).session_factory) as session:
        prepared = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "signature.requested")
        ).one()
        key = json.loads(prepared.details)["prepared_sha256"]
    _blob_path(app, key).unlink()
    code, output = _scrub(app)
    assert code == 1
    assert f"MANQUANT  {key} (journal n° {prepared.id} (signature.requested))" in output


def test_scrub_is_silent_after_the_journal_is_anchored_in_the_store(app: Flask) -> None:
    """Without a TSA, `audit anchor` seals the journal head into a blob of its own: that blob
    belongs to no document, yet it is referenced (by the journal), never an orphan."""
    sign_completely(app)
    anchored = app.test_cli_runner().invoke(args=["audit", "anchor"])
    assert anchored.exit_code == 0, anchored.output
    code, output = _scrub(app)
    assert code == 0, output
    assert not any(word in output for word in ("ORPHELIN", "MANQUANT", "ALTÉRÉ"))


def test_scrub_is_silent_while_a_request_is_in_flight(app: Flask) -> None:
    """Two signers: after the first, the request's current revision is no document yet."""
    publish_short_cgv(app)
    vendor = Countersigner(name="Søren Ødegård", email="soren@vendor.example")
    signed_from_quote(app, make_quote(app, make_client(app)), vendor)
    with transaction(runtime(app).session_factory) as session:
        request = session.scalars(select(SignatureRequest)).one()
        assert request.status is RequestStatus.PARTIALLY_SIGNED
    code, output = _scrub(app)
    assert code == 0, output


def test_scrub_is_silent_after_a_retention_purge(app: Flask) -> None:
    """A purged document's blob is deleted on purpose: not missing."""
    # A quote of no client: no retention end, so no write-once lock that would keep its blob
    # (an invoice's lock of ten years would, whatever its row says).
    document_id, _sha256 = _deposit(
        app, "DEV-7", b"%PDF-1.7 devis perime" * 100, kind=DocumentKind.QUOTE
    )
    with transaction(runtime(app).session_factory) as session:
        document = session.get(Document, document_id)
        assert document is not None
        document.retention_until = date(2000, 1, 1)
    purge = app.test_cli_runner().invoke(args=["jobs", "purge"])
    assert purge.exit_code == 0, purge.output
    with transaction(runtime(app).session_factory) as session:
        document = session.get(Document, document_id)
        assert document is not None and document.purged_at is not None
    code, output = _scrub(app)
    assert code == 0, output


def test_revisions_are_purged_with_their_signed_contract_and_scrub_stays_silent(
    app: Flask,
) -> None:
    """The intermediate revisions are kept as long as the signed contract, and no longer."""
    signed = sign_completely(app)
    store = runtime(app).store
    with transaction(runtime(app).session_factory) as session:
        (revisions,) = archive.revision_keys(session).values()
        for document in session.scalars(
            select(Document).where(Document.client_id == signed.client_id)
        ):
            document.retention_until = date(2000, 1, 1)
    signed_sha = _sha256_of(app, signed.documents["signed"])
    intermediate = set(revisions) - {signed_sha}
    assert len(intermediate) == 2  # the certified PDF, then the client's signature
    assert all(store.exists(key) for key in intermediate)

    purge = app.test_cli_runner().invoke(args=["jobs", "purge"])
    assert purge.exit_code == 0, purge.output
    assert not any(store.exists(key) for key in intermediate | {signed_sha})
    with transaction(runtime(app).session_factory) as session:
        (event,) = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "signature.revisions_purged")
        ).all()
        assert event.subject_id == str(signed.request_id)
        assert set(json.loads(event.details)["deleted_sha256"]) == intermediate
        assert audit.verify_chain(session) == []
    code, output = _scrub(app)
    assert code == 0, output


def test_revisions_of_a_cancelled_request_go_with_the_contract_document(app: Flask) -> None:
    from app.signatures import lifecycle

    publish_short_cgv(app)
    client_id = make_client(app)
    send_contract(app, make_contract(app, make_quote(app, client_id)))
    with transaction(runtime(app).session_factory) as session:
        request = session.scalars(select(SignatureRequest)).one()
        prepared = request.current_sha256
        assert prepared is not None
        lifecycle.cancel(session, request.id, "Erreur de tarif", now=T0, actor="test")
        for document in session.scalars(select(Document).where(Document.client_id == client_id)):
            document.retention_until = date(2000, 1, 1)
    assert runtime(app).store.exists(prepared)
    purge = app.test_cli_runner().invoke(args=["jobs", "purge"])
    assert purge.exit_code == 0, purge.output
    assert not runtime(app).store.exists(prepared)
    code, output = _scrub(app)
    assert code == 0, output


def _sha256_of(app: Flask, document_id: int) -> str:
    with transaction(runtime(app).session_factory) as session:
        document = session.get(Document, document_id)
        assert document is not None
        return document.sha256


def test_api_read_of_corrupted_document_is_refused_and_journaled(
    app: Flask, client: FlaskClient
) -> None:
    document_id, sha256 = _deposit(app, "FAC-9", b"%PDF-1.7 contenu" * 1000)
    headers = {"Authorization": f"Bearer {make_token(app, Scope.READ)}"}
    url = f"/api/v1/documents/{document_id}/content"
    assert client.get(url, headers=headers).status_code == 200

    _corrupt(app, sha256)
    response = client.get(f"/api/v1/documents/{document_id}/content", headers=headers)
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert "intégrité" in body["title"] and sha256 in body["detail"]

    _blob_path(app, sha256).unlink()
    missing = client.get(f"/api/v1/documents/{document_id}/content", headers=headers)
    assert missing.status_code == 503 and "introuvable" in missing.get_json()["detail"]

    with transaction(app.extensions["paraphe"].session_factory) as session:
        failures = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "document.integrity_failed")
        ).all()
        assert [f.subject_id for f in failures] == [str(document_id)] * 2
        assert '"problem":"mismatch"' in failures[0].details
        assert '"problem":"missing"' in failures[1].details
        assert audit.verify_chain(session) == []


def test_audit_verify_intact(app: Flask) -> None:
    _journal(app)
    code, output = audit_command(app, "verify")
    assert code == 0 and "Journal intact : 5\u00a0événements" in output


def test_audit_verify_locates_altered_event(app: Flask) -> None:
    _journal(app)
    execute_sql(app, "UPDATE audit_events SET actor = 'user:2' WHERE id = 3")
    code, output = audit_command(app, "verify")
    assert code == 1 and "[n° 3] contenu altéré au n° 3" in output


def test_audit_verify_locates_deleted_event(app: Flask) -> None:
    _journal(app)
    execute_sql(app, "DELETE FROM audit_events WHERE id = 2")
    code, output = audit_command(app, "verify")
    assert code == 1 and "1\u00a0événement manquant avant le n° 3" in output
    assert "Journal ROMPU (4\u00a0événements lus) :" in output


def test_audit_verify_locates_inserted_event(app: Flask) -> None:
    _journal(app, 3)
    # Shift the last event away and slip a forged one in its place, chained to event 2.
    execute_sql(app, "UPDATE audit_events SET id = 4 WHERE id = 3")
    execute_sql(
        app,
        "INSERT INTO audit_events (id, at, actor, action, subject_type, subject_id, "
        "client_id, details, prev_hash, hash) SELECT 3, at, 'intrus', action, subject_type, "
        "subject_id, client_id, details, hash, '" + "e" * 64 + "' FROM audit_events WHERE id = 2",
    )
    code, output = audit_command(app, "verify")
    assert code == 1
    assert "[n° 3] contenu altéré au n° 3" in output
    assert "[n° 4] chaînage rompu au n° 4" in output
