"""The restitution archive: every document of a client, by kind, with a sealed hash manifest.

Written to a file object in constant memory: each blob is copied into the zip in chunks and
hashed on the way, so the manifest states what is really in the archive. Rows are read a page
per short transaction (`contents`): no transaction is open while the archive is written or
sealed.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import Row

from app.archive.restitution.contents import (
    AcceptedCgv,
    ArchivedPdf,
    Transactions,
    acceptances,
    journal_rows,
    restituted_documents,
)
from app.archive.restitution.manifest import (
    ClientIdentity,
    EntrySpool,
    ManifestEntry,
    index_csv,
    json_array_chunks,
    manifest_chunks,
    manifest_head,
)
from app.archive.restitution.readme import readme
from app.archive.restitution.zipwriter import file_chunks, write_member
from app.documents.models import Document, DocumentKind
from app.documents.services import integrity_failure
from signing import SigningError, SigningKey, VerificationReport, seal_detached, verify_pdf
from storage import BlobCorrupted, BlobNotFound, BlobStore


@dataclass(frozen=True)
class RestitutionResult:
    paths: list[str]
    """Every file of the archive but the manifest and its seal, in manifest order."""
    manifest_sha256: str
    seal_signer: str

    @property
    def files(self) -> int:
        return len(self.paths)


def _safe_name(name: str) -> str:
    return name.replace("/", "_").replace("\\", "_").lstrip(".") or "document"


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def verification_json(report: VerificationReport) -> bytes:
    body = {
        "all_ok": report.all_ok,
        "signatures": [{**asdict(sig), "ok": sig.ok} for sig in report.signatures],
    }
    return json.dumps(body, ensure_ascii=False, indent=2, default=_json_default).encode("utf-8")


def _verification_report(pdf: bytes, trust_roots: Sequence[bytes], now: datetime) -> bytes:
    try:
        return verification_json(verify_pdf(pdf, trust_roots, validation_time=now))
    except SigningError as exc:  # unreadable as a signed PDF: say so, go on
        return json.dumps({"all_ok": False, "error": str(exc)}, ensure_ascii=False).encode("utf-8")


def _generated(
    archive: zipfile.ZipFile,
    path: str,
    chunks: Iterable[bytes],
    *,
    kind: str,
    reference: str,
    created_at: datetime,
    version: int = 1,
) -> ManifestEntry:
    """Write a file Paraphe generates (report, CGV text, JSON, CSV) and its manifest entry."""
    sha256, size = write_member(archive, path, chunks, created_at=created_at)
    return ManifestEntry(
        path=path,
        sha256=sha256,
        size=size,
        kind=kind,
        reference=reference,
        version=version,
        created_at=created_at.isoformat(),
        retention_until=None,
        retention_basis=None,
    )


def write_restitution(
    transactions: Transactions,
    store: BlobStore,
    client: ClientIdentity,
    out: IO[bytes],
    *,
    now: datetime,
    actor: str,
    seal_key: SigningKey,
    trust_roots: Sequence[bytes],
) -> RestitutionResult:
    """Write the archive to `out` (a seekable file) in constant memory: document rows are read
    a page at a time, each blob is copied in chunks and hashed on the way (so the manifest
    states what is really in the archive), manifest entries wait in a temporary file, and the
    manifest is written and sealed from a temporary file. Only signed PDFs are read whole, one
    at a time, to verify their signatures. What still grows with the client is the set of
    paths (to keep them unique) and the zip's central directory, ~0.1 KB per file each.

    A damaged or missing blob is journaled (in its own transaction) and raised as
    `DocumentIntegrityFailed`: a damaged archive is never handed over."""
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as spool_file,
        zipfile.ZipFile(out, "w", allowZip64=True) as archive,
    ):
        spool = EntrySpool(spool_file)
        _write_documents(
            archive,
            spool,
            transactions,
            store,
            client.id,
            now=now,
            actor=actor,
            trust_roots=trust_roots,
        )
        _write_client_files(archive, spool, transactions, store, client.id, now=now, actor=actor)
        spool.add(
            _generated(
                archive,
                "index.csv",
                index_csv(spool),
                kind="index",
                reference="index",
                created_at=now,
            )
        )
        signer = seal_key.subject_common_name
        with tempfile.TemporaryFile() as manifest:
            digest = hashlib.sha256()
            for chunk in manifest_chunks(manifest_head(client, now, signer), spool):
                digest.update(chunk)
                manifest.write(chunk)
            manifest.seek(0)
            write_member(archive, "manifest.json", file_chunks(manifest), created_at=now)
            manifest.seek(0)
            seal = seal_detached(manifest, seal_key, now)
        write_member(archive, "manifest.json.p7s", [seal], created_at=now, compress=False)
    return RestitutionResult(
        paths=spool.paths, manifest_sha256=digest.hexdigest(), seal_signer=signer
    )


@contextmanager
def _integrity_checked(
    transactions: Transactions, document_id: int, *, actor: str, now: datetime
) -> Iterator[None]:
    """Never hand over a damaged archive: a blob that is missing or fails its hash stops the
    restitution, and which document failed is journaled (in its own transaction)."""
    try:
        yield
    except (BlobCorrupted, BlobNotFound) as exc:
        with transactions() as session:
            document = session.get_one(Document, document_id)
            failure = integrity_failure(session, document, exc, actor=actor, now=now)
        raise failure from exc


def _copy(
    archive: zipfile.ZipFile,
    path: str,
    transactions: Transactions,
    store: BlobStore,
    document: Row[Any] | ArchivedPdf,
    *,
    actor: str,
    now: datetime,
) -> tuple[str, int]:
    """An archived document's blob copied into the archive in chunks, checked on the way."""
    with (
        _integrity_checked(transactions, document.id, actor=actor, now=now),
        store.open(document.sha256) as src,
    ):
        return write_member(
            archive,
            path,
            file_chunks(src, document.size),
            created_at=document.created_at,
            compress=False,
        )


def _write_documents(
    archive: zipfile.ZipFile,
    spool: EntrySpool,
    transactions: Transactions,
    store: BlobStore,
    client_id: int,
    *,
    now: datetime,
    actor: str,
    trust_roots: Sequence[bytes],
) -> None:
    """Each archived document under its kind's folder; for a signed PDF, its verification
    report."""
    for row in restituted_documents(transactions, client_id):
        kind = DocumentKind(row.kind)
        path = spool.unique(f"{kind.folder}/{_safe_name(row.filename)}", row.id)
        signed_pdf: bytes | None = None
        if kind is DocumentKind.SIGNED_CONTRACT:
            # Read whole and verified once: the bytes copied are the bytes whose signatures
            # the report checks (the store is not read a second time).
            with _integrity_checked(transactions, row.id, actor=actor, now=now):
                signed_pdf = store.get(row.sha256)
            sha256, size = write_member(
                archive, path, [signed_pdf], created_at=row.created_at, compress=False
            )
        else:
            sha256, size = _copy(archive, path, transactions, store, row, actor=actor, now=now)
        spool.add(
            ManifestEntry(
                path=path,
                sha256=sha256,
                size=size,
                kind=kind.value,
                reference=row.reference,
                version=row.version,
                created_at=row.created_at.isoformat(),
                retention_until=(row.retention_until.isoformat() if row.retention_until else None),
                retention_basis=row.retention_basis,
            )
        )
        if signed_pdf is not None:
            stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            spool.add(
                _generated(
                    archive,
                    spool.unique(f"rapports-de-verification/{stem}.json", row.id),
                    [_verification_report(signed_pdf, trust_roots, now)],
                    kind="verification_report",
                    reference=row.reference,
                    version=row.version,
                    created_at=now,
                )
            )


def _write_client_files(
    archive: zipfile.ZipFile,
    spool: EntrySpool,
    transactions: Transactions,
    store: BlobStore,
    client_id: int,
    *,
    now: datetime,
    actor: str,
) -> None:
    """The accepted CGV versions and their acceptance history, the journal excerpt, the
    README (naming what the archive holds)."""
    with transactions() as session:
        history, versions = acceptances(session, client_id)
    for version in versions:
        spool.add(_cgv(archive, spool, transactions, store, version, actor=actor, now=now))
    client_ref = f"client-{client_id}"
    history_json = json.dumps(history, ensure_ascii=False, indent=2).encode("utf-8")
    for path, chunks, kind, reference in (
        ("acceptations-cgv.json", [history_json], "cgv_acceptances", client_ref),
        (
            "journal.json",
            json_array_chunks(journal_rows(transactions, client_id)),
            "journal",
            client_ref,
        ),
        ("LISEZMOI.txt", [readme(spool.paths).encode("utf-8")], "readme", "LISEZMOI"),
    ):
        spool.add(_generated(archive, path, chunks, kind=kind, reference=reference, created_at=now))


def _cgv(
    archive: zipfile.ZipFile,
    spool: EntrySpool,
    transactions: Transactions,
    store: BlobStore,
    version: AcceptedCgv,
    *,
    actor: str,
    now: datetime,
) -> ManifestEntry:
    """An accepted CGV version as the PDF/A archived at its publication, the document the
    client accepted; its Markdown text when no PDF was archived."""
    reference = f"CGV-{version.label}"
    stem = f"cgv/{_safe_name(reference)}"
    if version.pdf is None:
        return _generated(
            archive,
            spool.unique(f"{stem}.md", version.id),
            [version.body_markdown.encode("utf-8")],
            kind="cgv",
            reference=reference,
            created_at=version.published_at,
        )
    pdf = version.pdf
    path = spool.unique(f"{stem}.pdf", version.id)
    sha256, size = _copy(archive, path, transactions, store, pdf, actor=actor, now=now)
    return ManifestEntry(
        path=path,
        sha256=sha256,
        size=size,
        kind="cgv",
        reference=reference,
        version=1,
        created_at=pdf.created_at.isoformat(),
        retention_until=pdf.retention_until.isoformat() if pdf.retention_until else None,
        retention_basis=pdf.retention_basis,
    )
