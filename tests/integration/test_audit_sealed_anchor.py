"""Without a TSA, `audit anchor` seals the journal's head into the blob store (a new blob each
time, sealed with the platform key, out of the database's reach): deleting the journal's last
events and rewriting its head, which the hash chain alone cannot see, is then caught by
`audit verify`, with the missing events named."""

from __future__ import annotations

import base64
import json

from flask import Flask
from sqlalchemy import delete, select, update

from app.audit import sealing
from app.audit import services as audit
from app.audit.models import AuditChainHead, AuditEvent
from app.db import transaction
from tests.factories.audit import audit_command, rewrite_chain
from tests.factories.audit import record_reads as _journal


def _truncate_after(app: Flask, last_kept: int) -> None:
    """What a forger with database access would do: delete the events after `last_kept` and
    point the chain head back at it, so that the chain by itself verifies again."""
    with transaction(app.extensions["paraphe"].session_factory) as session:
        session.execute(delete(AuditEvent).where(AuditEvent.id > last_kept))
        kept = session.scalar(select(AuditEvent.hash).where(AuditEvent.id == last_kept))
        session.execute(update(AuditChainHead).values(last_event_id=last_kept, last_hash=kept))
        assert audit.verify_chain(session) == []  # the chain alone sees nothing


def _sealed_blobs(app: Flask) -> list[str]:
    store = app.extensions["paraphe"].store
    return [k for k in store.iter_keys() if store.get(k).startswith(sealing.SEALED_ANCHOR_MAGIC)]


def test_an_intact_journal_verifies_clean_against_its_sealed_anchors(app: Flask) -> None:
    _journal(app, 4)
    code, out = audit_command(app, "anchor")
    assert code == 0, out
    assert "Tête du journal scellée : événement n° 4" in out
    code, out = audit_command(app, "anchor")  # only the record of that anchor came since
    assert code == 0 and "Rien à sceller" in out
    _journal(app, 2, start=10)
    assert audit_command(app, "anchor")[0] == 0
    assert len(_sealed_blobs(app)) == 2  # each anchor is a new blob; none is rewritten
    code, out = audit_command(app, "verify")
    assert code == 0, out
    assert "Journal intact : 8\u00a0événements" in out
    assert "Ancres scellées valides : 2" in out and "événements n° 1 à 7" in out
    with transaction(app.extensions["paraphe"].session_factory) as session:
        assert sealing.sealed_anchor_blobs(session) == set(_sealed_blobs(app))


def test_a_truncated_journal_with_its_head_rewritten_is_caught(app: Flask) -> None:
    _journal(app, 6)
    assert audit_command(app, "anchor")[0] == 0  # anchors event 6; its record is event 7
    _truncate_after(app, 3)
    code, out = audit_command(app, "verify")
    assert code == 1, out
    assert "Journal intact : 3\u00a0événements" in out  # the chain alone is fooled...
    # ... not the sealed anchor, which names what is missing.
    assert "journal tronqué : les événements n° 4 à 6 manquent" in out


def test_deleting_only_the_anchored_event_is_caught(app: Flask) -> None:
    _journal(app, 3)
    assert audit_command(app, "anchor")[0] == 0
    _truncate_after(app, 2)
    code, out = audit_command(app, "verify")
    assert code == 1 and "journal tronqué : l'événement n° 3 manque" in out


def test_a_journal_rewritten_with_recomputed_hashes_is_caught(app: Flask) -> None:
    _journal(app, 4)
    assert audit_command(app, "anchor")[0] == 0
    rewrite_chain(app)
    code, out = audit_command(app, "verify")
    assert code == 1, out
    assert "l'événement n° 4 n'a plus l'empreinte scellée" in out


def test_a_forged_anchor_and_a_deleted_anchor_are_reported(app: Flask) -> None:
    _journal(app, 2)
    assert audit_command(app, "anchor")[0] == 0
    store = app.extensions["paraphe"].store
    [real] = _sealed_blobs(app)
    fields = json.loads(store.get(real))
    # A forger cannot seal: a claim with a seal taken from another statement does not verify.
    forged = dict(fields, event_id=1, head_hash="f" * 64)
    forged_key = store.put(json.dumps(forged, separators=(",", ":")).encode()).sha256
    store.delete(real)
    code, out = audit_command(app, "verify")
    assert code == 1, out
    assert f"l'ancre scellée {forged_key[:16]}… a un sceau invalide" in out
    assert f"l'ancre scellée {real[:16]}… (événement n° 3 du journal) est introuvable" in out
    assert base64.b64decode(fields["seal"])  # the real anchor did carry a seal


def test_nothing_to_seal_in_an_empty_journal(app: Flask) -> None:
    code, out = audit_command(app, "anchor")
    assert code == 0 and "Rien à sceller" in out
    code, out = audit_command(app, "verify")
    assert code == 0 and "Aucune ancre scellée" in out
