"""The archive's retention and legal holds become the store's write-once locks, and the purge
keeps (and says so, in French) what a lock still protects. On the filesystem store and on an
S3 bucket with Object Lock (moto on loopback).

Dates are taken from the real clock: S3's server judges a lock by it."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from app.archive.jobs import run_purge
from app.archive.services import retention as archive
from app.clock import business_date
from app.db import transaction, utcnow
from app.documents import retention as rules
from app.documents import services as documents
from app.documents.models import Document, DocumentKind
from app.runtime import Runtime
from storage import BlobRef, S3BlobStore, S3Location
from tests.factories import deposit_file, make_client, session_of
from tests.factories.archive import terminate_in_archive
from tests.s3_server import new_bucket, s3_client


@pytest.fixture(params=["filesystem", "s3"])
def rt(request: pytest.FixtureRequest, app: Flask) -> Runtime:
    """The app's runtime, its store the filesystem one or an Object Lock bucket."""
    runtime: Runtime = app.extensions["paraphe"]
    if request.param == "s3":
        client = s3_client(request.getfixturevalue("s3_endpoint"))
        store = S3BlobStore(client, S3Location(new_bucket(client, lock=True), "paraphe/"))
        runtime = replace(runtime, store=store)
        app.extensions["paraphe"] = runtime
    return runtime


def _deposit(app: Flask, client_id: int, kind: DocumentKind, reference: str) -> Document:
    # At the real clock: an S3 Object Lock refuses a retention date already past.
    return deposit_file(app, client_id, kind, reference, now=utcnow())


def test_a_deposit_locks_its_blob_until_the_retention_end(app: Flask, rt: Runtime) -> None:
    invoice = _deposit(app, make_client(app), DocumentKind.INVOICE, "FAC-LOCK-1")

    assert invoice.retention_until is not None
    lock = rt.store.lock(invoice.sha256)
    assert lock.retain_until == rules.lock_end(invoice.retention_until)
    assert business_date(lock.retain_until - timedelta(seconds=1)) == invoice.retention_until
    assert not lock.legal_hold


def test_termination_locks_what_it_dates(app: Flask, rt: Runtime) -> None:
    client_id = make_client(app)
    signed = _deposit(app, client_id, DocumentKind.SIGNED_CONTRACT, "CTR-LOCK-1")
    assert rt.store.lock(signed.sha256).retain_until is None  # the contract has not ended

    now = utcnow()
    terminate_in_archive(app, client_id, on=business_date(now), now=now)
    with session_of(app) as session:
        until = session.get_one(Document, signed.id).retention_until
    assert until is not None
    assert rt.store.lock(signed.sha256).retain_until == rules.lock_end(until)


def test_a_legal_hold_holds_the_blob_while_any_document_holds_it(app: Flask, rt: Runtime) -> None:
    client_id = make_client(app)
    first = _deposit(app, client_id, DocumentKind.QUOTE, "DEV-LOCK-1")
    # The same bytes archived again under another reference share the blob.
    with transaction(rt.session_factory) as session:
        second = documents.record_deposit(
            session,
            BlobRef(first.sha256, first.size),
            kind=DocumentKind.QUOTE,
            client_id=client_id,
            reference="DEV-LOCK-2",
            version=1,
            media_type="application/pdf",
            filename="DEV-LOCK-2.pdf",
            now=utcnow(),
            actor="test",
        )

    def hold(document_id: int, on: bool) -> None:
        with transaction(rt.session_factory) as session:
            document = session.get_one(Document, document_id)
            archive.set_legal_hold(
                session, rt.store, document, hold=on, reason="Litige", actor="test", now=utcnow()
            )

    hold(first.id, True)
    hold(second.id, True)
    assert rt.store.lock(first.sha256).legal_hold
    hold(first.id, False)
    assert rt.store.lock(first.sha256).legal_hold  # the second document still holds it
    hold(second.id, False)
    assert not rt.store.lock(first.sha256).legal_hold


def test_the_purge_keeps_what_the_store_still_locks(app: Flask, rt: Runtime) -> None:
    now = utcnow()
    today = business_date(now)
    client_id = make_client(app)
    invoice = _deposit(app, client_id, DocumentKind.INVOICE, "FAC-LOCK-2")
    quote = _deposit(app, client_id, DocumentKind.QUOTE, "DEV-LOCK-3")
    # Terminated long ago: the quote's retention (6 months) has ended, it was never locked
    # beyond that. The invoice's row is then shortened by hand, as a wrong correction would:
    # its blob stays locked for ten years whatever the row says.
    terminate_in_archive(app, client_id, on=today - timedelta(days=400), now=now)
    with transaction(rt.session_factory) as session:
        session.get_one(Document, invoice.id).retention_until = today - timedelta(days=30)
    locked_until = rt.store.lock(invoice.sha256).retain_until
    assert locked_until is not None and locked_until > now

    report = run_purge(rt, today=today, now=now, dry_run=False)

    assert [item.document_id for item in report.deleted] == [quote.id]
    [deferred] = report.deferred
    assert deferred.document_id == invoice.id
    assert deferred.locked_until == locked_until
    assert "verrou de conservation du stockage (écriture unique) jusqu'au" in deferred.reason
    assert rt.store.get(invoice.sha256).startswith(b"%PDF")
    assert not rt.store.exists(quote.sha256)
    with transaction(rt.session_factory) as session:
        assert session.get_one(Document, invoice.id).purged_at is None
        certificate = session.scalars(
            select(Document).where(Document.kind == DocumentKind.DELETION_CERTIFICATE)
        ).one()
        pdf = rt.store.get(certificate.sha256)
    text = " ".join(
        "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
    )
    assert "FAC-LOCK-2" in text and "verrou de conservation du stockage" in text

    again = app.test_cli_runner().invoke(args=["jobs", "purge"])
    assert again.exit_code == 0, again.output
    assert f"CONSERVÉ     n° {invoice.id}  invoice  FAC-LOCK-2 v1" in again.output
    assert "0\u00a0document supprimé, 1\u00a0conservé par le verrou du stockage" in again.output
