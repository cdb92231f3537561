"""`paraphe storage migrate --to s3://…`: every blob copied and verified, locks carried,
resumable, a damaged blob reported in French with exit 1; then the app runs on the bucket
(PARAPHE_STORAGE_URL) and `paraphe storage scrub` checks it. Against moto on loopback."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace

import pytest
from flask import Flask

from app.archive.services import retention as archive
from app.config import Settings
from app.db import transaction, utcnow
from app.documents import retention as rules
from app.documents.models import Document, DocumentKind
from app.documents.services import get_document
from storage import FilesystemBlobStore, S3BlobStore, S3Location
from tests.factories import deposit_file, make_client
from tests.s3_server import CREDENTIALS, REGION, new_bucket, s3_client


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The standard variables, as an operator sets them (boto3 reads them itself)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS["aws_secret_access_key"])


def _damage(store: FilesystemBlobStore, sha256: str) -> bytes:
    path = store.root / sha256[:2] / sha256[2:4] / sha256
    original = path.read_bytes()
    os.chmod(path, 0o644)
    path.write_bytes(b"X" + original[1:])
    return original


def _restore(store: FilesystemBlobStore, sha256: str, original: bytes) -> None:
    (store.root / sha256[:2] / sha256[2:4] / sha256).write_bytes(original)


def test_migrate_copies_verifies_resumes_then_the_app_runs_on_the_bucket(
    app: Flask,
    settings: Settings,
    make_app: Callable[[Settings], Flask],
    s3_endpoint: str,
    aws_credentials: None,
) -> None:
    rt = app.extensions["paraphe"]
    source = rt.store
    assert isinstance(source, FilesystemBlobStore)
    client_id = make_client(app)
    invoice = deposit_file(app, client_id, DocumentKind.INVOICE, "FAC-MIG-1")
    quote = deposit_file(app, client_id, DocumentKind.QUOTE, "DEV-MIG-1", data=b"%PDF devis" * 9)
    held = deposit_file(app, client_id, DocumentKind.QUOTE, "DEV-MIG-2")
    with transaction(rt.session_factory) as session:
        archive.set_legal_hold(
            session,
            rt.store,
            get_document(session, held.id),
            hold=True,
            reason="Contentieux",
            actor="test",
            now=utcnow(),
        )
    raw = s3_client(s3_endpoint)
    bucket = new_bucket(raw, lock=True)
    target_url = f"s3://{bucket}/paraphe/prod"
    runner = app.test_cli_runner()
    migrate = ["storage", "migrate", "--to", target_url, "--endpoint-url", s3_endpoint]
    migrate += ["--region", REGION]
    original = _damage(source, quote.sha256)

    first = runner.invoke(args=migrate)

    assert first.exit_code == 1, first.output
    assert f"ALTÉRÉ    {quote.sha256}" in first.output
    assert "2\u00a0fichiers copiés et vérifiés, 0\u00a0déjà présent, 1 en échec" in first.output
    assert "Migration incomplète : 1\u00a0fichier non copié" in first.output
    target = S3BlobStore(raw, S3Location.parse(target_url))
    assert not target.exists(quote.sha256)  # a damaged blob never lands under its key

    _restore(source, quote.sha256, original)
    second = runner.invoke(args=migrate)
    assert second.exit_code == 0, second.output
    assert "1\u00a0fichier copié et vérifié, 2\u00a0déjà présents, 0 en échec" in second.output

    third = runner.invoke(args=migrate)
    assert third.exit_code == 0, third.output
    assert "Rien à copier : 3\u00a0fichiers sont déjà dans" in third.output

    assert list(target.iter_keys()) == list(source.iter_keys())
    for document in (invoice, quote, held):
        assert target.get(document.sha256) == source.get(document.sha256)
    assert invoice.retention_until is not None
    assert target.lock(invoice.sha256).retain_until == rules.lock_end(invoice.retention_until)
    assert target.lock(held.sha256).legal_hold
    assert not target.lock(quote.sha256).legal_hold

    on_s3 = make_app(
        replace(
            settings,
            storage_url=target_url,
            s3_endpoint_url=s3_endpoint,
            s3_region=REGION,
        )
    )
    assert isinstance(on_s3.extensions["paraphe"].store, S3BlobStore)
    scrub = on_s3.test_cli_runner().invoke(args=["storage", "scrub"])
    assert scrub.exit_code == 0, scrub.output
    assert "3\u00a0fichiers vérifiés" in scrub.output
    with transaction(on_s3.extensions["paraphe"].session_factory) as session:
        stored = session.get_one(Document, invoice.id)
        assert on_s3.extensions["paraphe"].store.get(stored.sha256).startswith(b"%PDF")


def test_migrate_refuses_a_target_that_is_not_an_s3_url(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["storage", "migrate", "--to", "/mnt/nas"])

    assert result.exit_code == 2
    assert "s3://compartiment[/préfixe]" in result.output


def test_a_bucket_without_object_lock_is_refused_blob_by_blob(
    app: Flask, s3_endpoint: str, aws_credentials: None
) -> None:
    invoice = deposit_file(app, make_client(app), DocumentKind.INVOICE, "FAC-MIG-2")
    bucket = new_bucket(s3_client(s3_endpoint), lock=False)

    result = app.test_cli_runner().invoke(
        args=["storage", "migrate", "--to", f"s3://{bucket}", "--endpoint-url", s3_endpoint]
    )

    assert result.exit_code == 1
    assert f"ÉCHEC     {invoice.sha256}" in result.output
    assert "n'a pas le verrouillage d'objets (Object Lock) activé" in result.output
