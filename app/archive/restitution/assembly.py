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
from datetime import date, datetime
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
    """Write a file Paraphe generates (report, CGV text, JSON, CSV) and its manifest entry:
    dated when written, with no retention of its own."""
    written = write_member(archive, path, chunks, created_at=created_at)
    return _entry(path, written, kind=kind, reference=reference, version=version, at=created_at)


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
        writing = _Writing(archive, spool, transactions, store, now=now, actor=actor)
        _write_documents(writing, client.id, trust_roots)
        _write_client_files(writing, client.id)
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


@dataclass(frozen=True)
class _Writing:
    """What every step of writing one archive uses: the zip, the manifest entries so far, the
    short transactions that read rows (and journal a damaged blob), the store, who and when."""

    archive: zipfile.ZipFile
    spool: EntrySpool
    transactions: Transactions
    store: BlobStore
    now: datetime
    actor: str

    @contextmanager
    def integrity_checked(self, document_id: int) -> Iterator[None]:
        """Never hand over a damaged archive: a blob that is missing or fails its hash stops
        the restitution, and which document failed is journaled (in its own transaction)."""
        try:
            yield
        except (BlobCorrupted, BlobNotFound) as exc:
            with self.transactions() as session:
                document = session.get_one(Document, document_id)
                failure = integrity_failure(session, document, exc, actor=self.actor, now=self.now)
            raise failure from exc

    def copy(self, path: str, document: Row[Any] | ArchivedPdf) -> tuple[str, int]:
        """An archived document's blob copied into the archive in chunks, checked on the way."""
        with self.integrity_checked(document.id), self.store.open(document.sha256) as src:
            return write_member(
                self.archive,
                path,
                file_chunks(src, document.size),
                created_at=document.created_at,
                compress=False,
            )


def _archived_entry(
    path: str,
    written: tuple[str, int],
    document: Row[Any] | ArchivedPdf,
    *,
    kind: str,
    reference: str,
    version: int,
) -> ManifestEntry:
    """The manifest entry of an archived document copied as `path` (`written`: its SHA-256 and
    size in the archive), with the document's own date and retention."""
    return _entry(
        path,
        written,
        kind=kind,
        reference=reference,
        version=version,
        at=document.created_at,
        retention=(document.retention_until, document.retention_basis),
    )


def _entry(
    path: str,
    written: tuple[str, int],
    *,
    kind: str,
    reference: str,
    version: int,
    at: datetime,
    retention: tuple[date | None, str | None] = (None, None),
) -> ManifestEntry:
    """The manifest entry of a file written as `path` (`written`: its SHA-256 and size in the
    archive), dated `at`, kept until and on the basis `retention` says."""
    sha256, size = written
    until, basis = retention
    return ManifestEntry(
        path=path,
        sha256=sha256,
        size=size,
        kind=kind,
        reference=reference,
        version=version,
        created_at=at.isoformat(),
        retention_until=until.isoformat() if until else None,
        retention_basis=basis,
    )


def _write_documents(writing: _Writing, client_id: int, trust_roots: Sequence[bytes]) -> None:
    """Each archived document under its kind's folder; for a signed PDF, its verification
    report."""
    spool = writing.spool
    for row in restituted_documents(writing.transactions, client_id):
        kind = DocumentKind(row.kind)
        path = spool.unique(f"{kind.folder}/{_safe_name(row.filename)}", row.id)
        signed_pdf: bytes | None = None
        if kind is DocumentKind.SIGNED_CONTRACT:
            # Read whole and verified once: the bytes copied are the bytes whose signatures
            # the report checks (the store is not read a second time).
            with writing.integrity_checked(row.id):
                signed_pdf = writing.store.get(row.sha256)
            written = write_member(
                writing.archive, path, [signed_pdf], created_at=row.created_at, compress=False
            )
        else:
            written = writing.copy(path, row)
        spool.add(
            _archived_entry(
                path, written, row, kind=kind.value, reference=row.reference, version=row.version
            )
        )
        if signed_pdf is not None:
            stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            spool.add(
                _generated(
                    writing.archive,
                    spool.unique(f"rapports-de-verification/{stem}.json", row.id),
                    [_verification_report(signed_pdf, trust_roots, writing.now)],
                    kind="verification_report",
                    reference=row.reference,
                    version=row.version,
                    created_at=writing.now,
                )
            )


def _write_client_files(writing: _Writing, client_id: int) -> None:
    """The accepted CGV versions and their acceptance history, the journal excerpt, the
    README (naming what the archive holds)."""
    with writing.transactions() as session:
        history, versions = acceptances(session, client_id)
    for version in versions:
        writing.spool.add(_cgv(writing, version))
    client_ref = f"client-{client_id}"
    history_json = json.dumps(history, ensure_ascii=False, indent=2).encode("utf-8")
    for path, chunks, kind, reference in (
        ("acceptations-cgv.json", [history_json], "cgv_acceptances", client_ref),
        (
            "journal.json",
            json_array_chunks(journal_rows(writing.transactions, client_id)),
            "journal",
            client_ref,
        ),
        ("LISEZMOI.txt", [readme(writing.spool.paths).encode("utf-8")], "readme", "LISEZMOI"),
    ):
        writing.spool.add(
            _generated(
                writing.archive,
                path,
                chunks,
                kind=kind,
                reference=reference,
                created_at=writing.now,
            )
        )


def _cgv(writing: _Writing, version: AcceptedCgv) -> ManifestEntry:
    """An accepted CGV version as the PDF/A archived at its publication, the document the
    client accepted; its Markdown text when no PDF was archived."""
    reference = f"CGV-{version.label}"
    stem = f"cgv/{_safe_name(reference)}"
    if version.pdf is None:
        return _generated(
            writing.archive,
            writing.spool.unique(f"{stem}.md", version.id),
            [version.body_markdown.encode("utf-8")],
            kind="cgv",
            reference=reference,
            created_at=version.published_at,
        )
    path = writing.spool.unique(f"{stem}.pdf", version.id)
    written = writing.copy(path, version.pdf)
    return _archived_entry(path, written, version.pdf, kind="cgv", reference=reference, version=1)
