"""The journal's head is timestamped by the TSA (RFC 3161, the certomancer test TSA over real
HTTP): `audit anchor` stores the token, `audit verify` checks every token against the chain,
and a journal rewritten afterwards (every hash recomputed, so the chain alone looks intact) is
caught. Without a TSA both commands say so."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from flask import Flask
from sqlalchemy import delete, select, update

from app.audit import anchoring
from app.audit import services as audit
from app.audit.models import AuditAnchor
from app.audit.workflow import NO_TSA
from app.config import Settings
from app.db import transaction
from tests.factories.audit import audit_command, rewrite_chain
from tests.factories.audit import record_reads as _journal
from tests.loopback import free_port
from tests.pki.fixtures import TestPki


def _app_with_tsa(
    make_app: Callable[[Settings], Flask],
    settings: Settings,
    test_pki: TestPki,
    tmp_path: Path,
    tsa_url: str,
) -> Flask:
    pki_dir = tmp_path / "pki"
    (pki_dir / "trust").mkdir(parents=True, exist_ok=True)
    root = x509.load_der_x509_certificate(test_pki.root_der)
    (pki_dir / "trust" / "certomancer-root.pem").write_bytes(root.public_bytes(Encoding.PEM))
    return make_app(replace(settings, pki_dir=pki_dir, tsa_url=tsa_url))


@pytest.fixture
def tsa_app(
    settings: Settings, test_pki: TestPki, tmp_path: Path, make_app: Callable[[Settings], Flask]
) -> Iterator[Flask]:
    application = _app_with_tsa(make_app, settings, test_pki, tmp_path, test_pki.tsa_url)
    yield application
    rt = application.extensions["paraphe"]
    trust = rt.trust_services()
    assert trust is not None
    trust.close()


def _anchors(app: Flask) -> list[AuditAnchor]:
    with transaction(app.extensions["paraphe"].session_factory) as session:
        return list(session.scalars(select(AuditAnchor).order_by(AuditAnchor.id)))


def _rewrite_chain(app: Flask) -> None:
    rewrite_chain(app)


@pytest.mark.real_clock  # the TSA's time is compared with the tests'
def test_the_head_is_timestamped_and_a_rewritten_journal_is_caught(tsa_app: Flask) -> None:
    _journal(tsa_app, 4)
    code, out = audit_command(tsa_app, "anchor")
    assert code == 0, out
    assert "Tête du journal horodatée : événement n° 4" in out
    [first] = _anchors(tsa_app)
    assert first.event_id == 4 and first.token[:1] == b"\x30"  # a DER SEQUENCE
    assert abs(first.timestamped_at - datetime.now(UTC)) < timedelta(minutes=5)

    # Nothing new: no TSA request, no new token.
    code, out = audit_command(tsa_app, "anchor")
    assert code == 0 and "Rien à horodater" in out
    assert len(_anchors(tsa_app)) == 1

    # Each anchor is journaled (event 5 records the first), and that record alone is not
    # something new to anchor.
    _journal(tsa_app, 2, start=4)
    assert audit_command(tsa_app, "anchor")[0] == 0
    assert [a.event_id for a in _anchors(tsa_app)] == [4, 7]

    code, out = audit_command(tsa_app, "verify")
    assert code == 0, out
    assert "Journal intact : 8\u00a0événements" in out
    assert "Horodatages valides : 2" in out and "Paraphe Test TSA" in out
    assert "couvre les événements n° 1 à 7" in out

    _rewrite_chain(tsa_app)
    with transaction(tsa_app.extensions["paraphe"].session_factory) as session:
        assert audit.verify_chain(session) == []  # the chain alone is fooled...
    code, out = audit_command(tsa_app, "verify")
    assert code == 1  # ... the timestamps are not
    assert "Journal intact" in out and "Horodatages INVALIDES (2 sur 2)" in out
    assert "l'événement n° 4 n'a plus l'empreinte horodatée" in out


def test_a_tampered_or_deleted_anchor_target_is_reported(tsa_app: Flask) -> None:
    _journal(tsa_app, 3)
    assert audit_command(tsa_app, "anchor")[0] == 0
    [anchor] = _anchors(tsa_app)
    factory = tsa_app.extensions["paraphe"].session_factory
    with transaction(factory) as session:
        token = bytearray(anchor.token)
        token[-10] ^= 0xFF  # inside the TSA's signature value
        session.execute(update(AuditAnchor).values(token=bytes(token)))
    code, out = audit_command(tsa_app, "verify")
    assert code == 1 and "jeton invalide" in out
    with transaction(factory) as session:
        session.execute(update(AuditAnchor).values(token=anchor.token))
        checks = anchoring.verify_anchors(session, [])  # no trust root: signature fine, untrusted
        assert checks[0].problem is not None and "trust root" in checks[0].problem
    assert audit_command(tsa_app, "verify")[0] == 0


def test_a_deleted_anchor_is_reported_by_the_journal(tsa_app: Flask) -> None:
    """The evidence cannot be quietly removed: the journal recorded each anchor taken."""
    _journal(tsa_app, 3)
    assert audit_command(tsa_app, "anchor")[0] == 0
    [anchor] = _anchors(tsa_app)
    with transaction(tsa_app.extensions["paraphe"].session_factory) as session:
        session.execute(delete(AuditAnchor).where(AuditAnchor.id == anchor.id))
    code, out = audit_command(tsa_app, "verify")
    assert code == 1, out
    assert "Journal intact" in out  # the chain itself is untouched...
    assert f"l'horodatage n° {anchor.id} (événement n° 4 du journal) a été supprimé" in out


def test_a_tsa_that_does_not_answer_stores_nothing(
    settings: Settings,
    test_pki: TestPki,
    tmp_path: Path,
    make_app: Callable[[Settings], Flask],
) -> None:
    app = _app_with_tsa(
        make_app, settings, test_pki, tmp_path, f"http://127.0.0.1:{free_port()}/tsa"
    )
    try:
        _journal(app, 2)
        code, out = audit_command(app, "anchor")
        assert code == 1 and "Horodatage impossible, rien n'est enregistré" in out
        assert _anchors(app) == []
    finally:
        trust = app.extensions["paraphe"].trust_services()
        assert trust is not None
        trust.close()


def test_without_a_tsa_both_commands_say_so(app: Flask) -> None:
    """No TSA token is taken; the head is sealed in the blob store instead (tested in
    test_audit_sealed_anchor)."""
    _journal(app, 2)
    code, out = audit_command(app, "anchor")
    assert code == 0 and NO_TSA in out and "Tête du journal scellée : événement n° 2" in out
    assert _anchors(app) == []
    code, out = audit_command(app, "verify")
    assert code == 0 and "Journal intact : 3\u00a0événements" in out and NO_TSA in out
