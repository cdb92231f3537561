"""The restitution archive: every document of a client, by kind, with a hash manifest.

Written to a file object in constant memory: each blob is copied into the zip in chunks and
hashed on the way, so the manifest states what is really in the archive.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from json.encoder import encode_basestring  # what json.dumps uses with ensure_ascii=False
from typing import IO, Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from app.archive.errors import RestitutionLinkGone
from app.archive.models import LinkPurpose, RestitutionLink
from app.audit import services as audit
from app.audit.models import AuditEvent
from app.clients.models import Client
from app.clock import PARIS
from app.config import RetentionPolicy
from app.documents.models import Document, DocumentKind
from app.documents.services import integrity_failure, record_deposit
from app.terms.acceptances import acceptances_of
from app.terms.models import CgvVersion
from app.tokens import new_link_token, token_hash
from signing import (
    SigningError,
    SigningKey,
    VerificationReport,
    seal_detached,
    verify_pdf,
)
from storage import BlobCorrupted, BlobNotFound, BlobStore

_CHUNK = 1 << 20

README = """Archive de restitution Paraphe
================================

Ce fichier .zip contient tous les documents archivés pour le client nommé dans
manifest.json, rangés par nature (un dossier par nature de document) :

  devis/                        devis
  contrats/                     versions des contrats générés (PDF)
  contrats-signes/              contrats signés électroniquement (PDF, signatures PAdES)
  dossiers-de-preuve/           dossiers de preuve des signatures
  cgv/                          versions des conditions générales acceptées (Markdown)
  factures/, avoirs/            factures et avoirs
  certificats-de-suppression/   certificats des suppressions déjà faites
  rapports-de-verification/     pour chaque PDF signé, le rapport de vérification de ses
                                signatures (intégrité, validité, chaîne de confiance)
  acceptations-cgv.json         historique des acceptations des CGV (qui, quand, comment)
  journal.json                  extrait du journal d'audit chaîné vous concernant
                                (chaque événement porte l'empreinte du précédent)
  index.csv                     un fichier par ligne : chemin, sha256, taille, nature,
                                référence, version, date, durée de conservation
  manifest.json                 la même liste, avec l'identité du client
  manifest.json.p7s             le cachet électronique de la plateforme sur manifest.json
                                (signature CMS détachée, RFC 5652)

Pour vérifier l'intégrité :
  1. le cachet : openssl cms -verify -binary -inform DER -in manifest.json.p7s
       -content manifest.json -CAfile <certificat racine de l'éditeur> -purpose any
  2. chaque fichier : recalculez son SHA-256 (par ex. `sha256sum contrats/CTR-2026-0001-v1.pdf`)
     et comparez-le à la valeur du manifeste.
Les signatures des PDF signés se vérifient aussi avec tout validateur PAdES.
"""

INDEX_COLUMNS = (
    "path",
    "sha256",
    "size",
    "kind",
    "reference",
    "version",
    "created_at",
    "retention_until",
    "retention_basis",
)


@dataclass(frozen=True)
class ManifestEntry:
    path: str
    sha256: str
    size: int
    kind: str
    reference: str
    version: int
    created_at: str
    retention_until: str | None
    retention_basis: str | None


def _entry_dict(entry: ManifestEntry) -> dict[str, Any]:
    """asdict() without its deep copy (the fields are scalars), in field order."""
    return dict(vars(entry))


@dataclass(frozen=True)
class RestitutionResult:
    paths: list[str]
    """Every file of the archive but the manifest and its seal, in manifest order."""
    manifest_sha256: str
    seal_signer: str

    @property
    def files(self) -> int:
        return len(self.paths)


def _zip_time(moment: datetime) -> tuple[int, int, int, int, int, int]:
    local = moment.astimezone(PARIS)
    return (
        max(local.year, 1980),
        local.month,
        local.day,
        local.hour,
        local.minute,
        local.second - local.second % 2,
    )


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


def json_array_chunks(items: Iterable[Any], *, depth: int = 0) -> Iterator[bytes]:
    """The bytes of ``json.dumps(list(items), ensure_ascii=False, indent=2)``, item by item,
    for an array nested `depth` levels deep: the manifest and the journal excerpt are written
    without building the whole list. JSON strings hold no raw newline, so re-indenting each
    item's lines is exact (tests compare with json.dumps)."""
    inner = "\n" + "  " * (depth + 1)
    separator = "["
    for item in items:
        text = _flat_object(item) or json.dumps(item, ensure_ascii=False, indent=2)
        yield (separator + inner + text.replace("\n", inner)).encode("utf-8")
        separator = ","
    yield ("[]" if separator == "[" else "\n" + "  " * depth + "]").encode("utf-8")


def _scalar_json(value: object) -> str | None:
    """What json.dumps(value, ensure_ascii=False) gives for a str, int, bool or None; None for
    anything else."""
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)
    return None


def _flat_object(item: Any) -> str | None:
    """json.dumps(item, ensure_ascii=False, indent=2) for a non-empty dict of str keys and
    scalar values (a manifest entry), None otherwise: with `indent`, json falls back to its
    pure-Python encoder, which cost more than hashing the files for 10,000 small documents."""
    if not isinstance(item, dict) or not item:
        return None
    members = []
    for key, value in item.items():
        text = _scalar_json(value)
        if text is None or not isinstance(key, str):
            return None
        members.append(f"{encode_basestring(key)}: {text}")
    return "{\n  " + ",\n  ".join(members) + "\n}"


_ROWS_PER_QUERY = 500
"""Rows fetched per query when walking a client's documents or journal: keyset pages on the
primary key keep memory flat on SQLite and PostgreSQL alike, without a server-side cursor
held open while the same session journals an integrity failure."""

_DOCUMENT_COLUMNS = (
    Document.id,
    Document.kind,
    Document.reference,
    Document.version,
    Document.sha256,
    Document.filename,
    Document.size,
    Document.created_at,
    Document.retention_until,
    Document.retention_basis,
)


def _keyset(session: Session, stmt: Select[Any], key: Any) -> Iterator[Row[Any]]:
    """The rows of `stmt` in `key` order, `_ROWS_PER_QUERY` at a time."""
    last: int | None = None
    while True:
        page = stmt if last is None else stmt.where(key > last)
        rows = session.execute(page.order_by(key).limit(_ROWS_PER_QUERY)).all()
        yield from rows
        if len(rows) < _ROWS_PER_QUERY:
            return
        last = rows[-1].id


def restituted_documents(session: Session, client_id: int) -> Iterator[Row[Any]]:
    """What a restitution contains: every live document except earlier restitution archives
    (an archive inside the next one would grow without end and change the file list), as
    plain rows of the columns the archive needs, oldest first."""
    stmt = select(*_DOCUMENT_COLUMNS).where(
        Document.client_id == client_id,
        Document.purged_at.is_(None),
        Document.kind != DocumentKind.RESTITUTION,
    )
    return _keyset(session, stmt, Document.id)


def _journal_rows(session: Session, client_id: int) -> Iterator[dict[str, Any]]:
    stmt = select(
        AuditEvent.id,
        AuditEvent.at,
        AuditEvent.actor,
        AuditEvent.action,
        AuditEvent.subject_type,
        AuditEvent.subject_id,
        AuditEvent.details,
        AuditEvent.prev_hash,
        AuditEvent.hash,
    ).where(AuditEvent.client_id == client_id)
    for ev in _keyset(session, stmt, AuditEvent.id):
        yield {
            "id": ev.id,
            "at": ev.at.isoformat(),
            "actor": ev.actor,
            "action": ev.action,
            "subject": f"{ev.subject_type}:{ev.subject_id}",
            "details": json.loads(ev.details),
            "prev_hash": ev.prev_hash,
            "hash": ev.hash,
        }


class _EntrySpool:
    """The manifest entries, one JSON line each in a temporary file rather than a list: the
    manifest and index.csv are written from it at the end, in the order entries were added."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self.paths: list[str] = []
        self._used: set[str] = set()

    def unique(self, path: str, discriminator: int) -> str:
        """`path`, or `path` with `discriminator` before its extension if already taken."""
        if path in self._used:
            stem, dot, ext = path.rpartition(".")
            path = f"{stem}-{discriminator}.{ext}" if dot else f"{path}-{discriminator}"
        self._used.add(path)
        return path

    def add(self, entry: ManifestEntry) -> None:
        self._file.write(json.dumps(list(vars(entry).values()), ensure_ascii=False) + "\n")
        self.paths.append(entry.path)

    def __iter__(self) -> Iterator[ManifestEntry]:
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            yield ManifestEntry(*json.loads(line))
        self._file.seek(0, io.SEEK_END)


def _write_member(
    archive: zipfile.ZipFile,
    path: str,
    chunks: Iterable[bytes],
    *,
    created_at: datetime,
    compress: bool = True,
) -> tuple[str, int]:
    """Write one archive member from `chunks`, hashing on the way; (sha256, size).

    The one loop that writes into the zip: blobs, generated JSON/CSV and the manifest alike.
    ZIP64 headers always, since a streamed member's size is not known in advance."""
    info = zipfile.ZipInfo(path, date_time=_zip_time(created_at))
    # PDFs are already compressed: storing them keeps throughput close to raw copying.
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    digest = hashlib.sha256()
    size = 0
    with archive.open(info, "w", force_zip64=True) as dst:
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
    return digest.hexdigest(), size


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
    sha256, size = _write_member(archive, path, chunks, created_at=created_at)
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


def _verification_report(pdf: bytes, trust_roots: Sequence[bytes], now: datetime) -> bytes:
    try:
        return verification_json(verify_pdf(pdf, trust_roots, validation_time=now))
    except SigningError as exc:  # unreadable as a signed PDF: say so, go on
        return json.dumps({"all_ok": False, "error": str(exc)}, ensure_ascii=False).encode("utf-8")


def _acceptances(session: Session, client_id: int) -> tuple[list[dict[str, Any]], list[CgvVersion]]:
    """The client's CGV acceptance history, and each accepted version once, in order."""
    history: list[dict[str, Any]] = []
    versions: dict[int, CgvVersion] = {}
    for acc in acceptances_of(session, client_id):
        history.append(
            {
                "cgv_version": acc.cgv_version.label,
                "cgv_effective_date": acc.cgv_version.effective_date.isoformat(),
                "text_sha256": acc.text_sha256,
                "person_name": acc.person_name,
                "person_email": acc.person_email,
                "method": acc.method.value,
                "accepted_at": acc.accepted_at.isoformat(),
                "ip": acc.ip,
                "user_agent": acc.user_agent,
                "contract_version_id": acc.contract_version_id,
            }
        )
        versions.setdefault(acc.cgv_version.id, acc.cgv_version)
    return history, list(versions.values())


def _manifest_head(client: Client, now: datetime, seal_key: SigningKey) -> dict[str, Any]:
    return {
        "format": "paraphe-restitution/2",
        "client": {
            "id": client.id,
            "legal_name": client.legal_name,
            "siren": client.siren,
            "terminated_on": client.terminated_on.isoformat() if client.terminated_on else None,
        },
        "generated_at": now.isoformat(),
        "seal": {
            "file": "manifest.json.p7s",
            "format": "CMS SignedData détaché (RFC 5652), SHA-256",
            "signer": seal_key.subject_common_name,
        },
    }


def manifest_chunks(head: dict[str, Any], entries: Iterable[ManifestEntry]) -> Iterator[bytes]:
    """``json.dumps({**head, "files": [asdict(e) for e in entries]}, ensure_ascii=False,
    indent=2)``, written entry by entry."""
    opening = json.dumps({**head, "files": []}, ensure_ascii=False, indent=2)
    yield opening.removesuffix("[]\n}").encode("utf-8")
    yield from json_array_chunks((_entry_dict(entry) for entry in entries), depth=1)
    yield b"\n}"


def write_restitution(
    session: Session,
    store: BlobStore,
    client: Client,
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
    paths (to keep them unique) and the zip's central directory, ~0.1 KB per file each."""
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as spool_file,
        zipfile.ZipFile(out, "w", allowZip64=True) as archive,
    ):
        spool = _EntrySpool(spool_file)
        _write_documents(
            archive,
            spool,
            session,
            store,
            client.id,
            now=now,
            actor=actor,
            trust_roots=trust_roots,
        )
        _write_client_files(archive, spool, session, client, now=now)
        spool.add(
            _generated(
                archive,
                "index.csv",
                _index_csv(spool),
                kind="index",
                reference="index",
                created_at=now,
            )
        )
        with tempfile.TemporaryFile() as manifest:
            digest = hashlib.sha256()
            for chunk in manifest_chunks(_manifest_head(client, now, seal_key), spool):
                digest.update(chunk)
                manifest.write(chunk)
            manifest.seek(0)
            _write_member(archive, "manifest.json", _file_chunks(manifest), created_at=now)
            manifest.seek(0)
            seal = seal_detached(manifest, seal_key, now)
        _write_member(archive, "manifest.json.p7s", [seal], created_at=now, compress=False)
    return RestitutionResult(
        paths=spool.paths,
        manifest_sha256=digest.hexdigest(),
        seal_signer=seal_key.subject_common_name,
    )


def _file_chunks(src: IO[bytes], expected_size: int = _CHUNK) -> Iterator[bytes]:
    """`src` in chunks of at most _CHUNK bytes, and no larger than the file is expected to be:
    a 1 MB read buffer for a 30 KB file made malloc grow and trim the heap twice per file
    (60,000 brk calls for 10,000 documents, and a third more wall time)."""
    # At least 64 KB (under malloc's 128 KB trim threshold), so that a wrong recorded size
    # cannot turn into byte-by-byte reads.
    step = min(_CHUNK, max(1 << 16, expected_size))
    while chunk := src.read(step):
        yield chunk


def _write_documents(
    archive: zipfile.ZipFile,
    spool: _EntrySpool,
    session: Session,
    store: BlobStore,
    client_id: int,
    *,
    now: datetime,
    actor: str,
    trust_roots: Sequence[bytes],
) -> None:
    """Each archived document under its kind's folder; for a signed PDF, its verification
    report."""
    for row in restituted_documents(session, client_id):
        kind = DocumentKind(row.kind)
        path = spool.unique(f"{kind.folder}/{_safe_name(row.filename)}", row.id)
        signed_pdf: bytes | None = None
        try:
            if kind is DocumentKind.SIGNED_CONTRACT:
                # Read whole and verified once: the bytes copied are the bytes whose
                # signatures the report checks (the store is not read a second time).
                signed_pdf = store.get(row.sha256)
                sha256, size = _write_member(
                    archive, path, [signed_pdf], created_at=row.created_at, compress=False
                )
            else:
                with store.open(row.sha256) as src:
                    sha256, size = _write_member(
                        archive,
                        path,
                        _file_chunks(src, row.size),
                        created_at=row.created_at,
                        compress=False,
                    )
        except (BlobCorrupted, BlobNotFound) as exc:
            # Never hand over a damaged archive: refuse, and journal which document failed.
            document = session.get_one(Document, row.id)
            raise integrity_failure(session, document, exc, actor=actor, now=now) from exc
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
    archive: zipfile.ZipFile, spool: _EntrySpool, session: Session, client: Client, *, now: datetime
) -> None:
    """The accepted CGV texts and their acceptance history, the journal excerpt, the README."""
    history, versions = _acceptances(session, client.id)
    for version in versions:
        spool.add(
            _generated(
                archive,
                spool.unique(f"cgv/CGV-{_safe_name(version.label)}.md", version.id),
                [version.body_markdown.encode("utf-8")],
                kind="cgv",
                reference=f"CGV-{version.label}",
                created_at=version.published_at,
            )
        )
    client_ref = f"client-{client.id}"
    history_json = json.dumps(history, ensure_ascii=False, indent=2).encode("utf-8")
    for path, chunks, kind, reference in (
        ("acceptations-cgv.json", [history_json], "cgv_acceptances", client_ref),
        (
            "journal.json",
            json_array_chunks(_journal_rows(session, client.id)),
            "journal",
            client_ref,
        ),
        ("LISEZMOI.txt", [README.encode("utf-8")], "readme", "LISEZMOI"),
    ):
        spool.add(_generated(archive, path, chunks, kind=kind, reference=reference, created_at=now))


_CSV_FLUSH = 1 << 16
"""Characters of index.csv buffered before they are written: a StringIO of 1 M characters
with one accented letter costs several MB (wide storage, then the copy and the encoding)."""


def _index_csv(entries: Iterable[ManifestEntry]) -> Iterator[bytes]:
    """index.csv, a row at a time; a BOM first so that spreadsheet software reads the accents
    as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(INDEX_COLUMNS)
    for entry in entries:
        row = vars(entry)
        writer.writerow([_csv_cell(row[column]) for column in INDEX_COLUMNS])
        if buffer.tell() >= _CSV_FLUSH:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ would be a formula in a spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


LINK_DAYS = 7
"""Validity of the links emailed to a client's contact (request, download)."""


def produce_restitution(
    session: Session,
    store: BlobStore,
    client: Client,
    *,
    now: datetime,
    actor: str,
    seal_key: SigningKey,
    trust_roots: Sequence[bytes],
    retention: RetentionPolicy,
) -> tuple[Document, RestitutionResult]:
    """Write the archive to a temporary file, stream it into the blob store, archive it as a
    document of kind restitution and journal its hash."""
    with tempfile.TemporaryFile() as spool:
        result = write_restitution(
            session,
            store,
            client,
            spool,
            now=now,
            actor=actor,
            seal_key=seal_key,
            trust_roots=trust_roots,
        )
        spool.seek(0)
        ref = store.put_stream(iter(lambda: spool.read(_CHUNK), b""))
    count = session.scalar(
        select(func.count())
        .select_from(Document)
        .where(Document.client_id == client.id, Document.kind == DocumentKind.RESTITUTION)
    )
    number = (count or 0) + 1
    stamp = now.astimezone(PARIS).strftime("%Y%m%d")
    document = record_deposit(
        session,
        ref,
        kind=DocumentKind.RESTITUTION,
        client_id=client.id,
        reference=f"RST-{client.id:06d}-{number:02d}",
        version=1,
        media_type="application/zip",
        filename=f"restitution-client-{client.id}-{stamp}-{number:02d}.zip",
        now=now,
        actor=actor,
        retention=retention,
    )
    audit.record(
        session,
        now=now,
        actor=actor,
        action="client.restitution",
        subject_type="client",
        subject_id=client.id,
        client_id=client.id,
        details={
            "document_id": document.id,
            "sha256": document.sha256,
            "size": document.size,
            "files": result.files,
            "manifest_sha256": result.manifest_sha256,
        },
    )
    return document, result


def request_by_archivist(
    session: Session,
    store: BlobStore,
    client: Client,
    *,
    now: datetime,
    actor: str,
    seal_key: SigningKey,
    trust_roots: Sequence[bytes],
    retention: RetentionPolicy,
) -> tuple[Document, RestitutionResult, RestitutionLink, str]:
    """Produce the archive and an expiring download link for the client's contact (whoever
    asked: an archivist, or the contact itself through its request link)."""
    document, result = produce_restitution(
        session,
        store,
        client,
        now=now,
        actor=actor,
        seal_key=seal_key,
        trust_roots=trust_roots,
        retention=retention,
    )
    link, token = create_link(
        session, client, purpose=LinkPurpose.DOWNLOAD, document=document, now=now, actor=actor
    )
    return document, result, link, token


def create_link(
    session: Session,
    client: Client,
    *,
    purpose: LinkPurpose,
    document: Document | None,
    now: datetime,
    actor: str,
) -> tuple[RestitutionLink, str]:
    """A new expiring link for the client's contact; returns it with its token (shown once)."""
    token = new_link_token()
    link = RestitutionLink(
        client_id=client.id,
        purpose=purpose,
        token_hash=token_hash(token),
        document_id=document.id if document is not None else None,
        created_at=now,
        expires_at=now + timedelta(days=LINK_DAYS),
    )
    session.add(link)
    session.flush()
    audit.record(
        session,
        now=now,
        actor=actor,
        action=f"restitution.link_{purpose.value}",
        subject_type="client",
        subject_id=client.id,
        client_id=client.id,
        details={"link_id": link.id, "document_id": link.document_id},
    )
    return link, token


def find_link(
    session: Session, token: str, *, purpose: LinkPurpose, now: datetime
) -> RestitutionLink:
    link = session.scalar(
        select(RestitutionLink).where(
            RestitutionLink.token_hash == token_hash(token), RestitutionLink.purpose == purpose
        )
    )
    if link is None:
        raise RestitutionLinkGone("Ce lien n'existe pas.")
    if link.expires_at <= now:
        raise RestitutionLinkGone(
            "Ce lien a expiré. Demandez-en un nouveau à votre interlocuteur chez l'éditeur."
        )
    if purpose is LinkPurpose.REQUEST and link.used_at is not None:
        raise RestitutionLinkGone(
            "Cette demande a déjà été faite : le lien de téléchargement "
            "vous a été envoyé par courriel."
        )
    return link


def archive_of_link(session: Session, link: RestitutionLink) -> Document:
    """The archive a download link points at, while it is still archived."""
    document = session.get(Document, link.document_id) if link.document_id else None
    if document is None or document.purged_at is not None:
        raise RestitutionLinkGone("Cette archive n'est plus disponible.")
    return document


def download(session: Session, link: RestitutionLink, *, now: datetime, actor: str) -> Document:
    """The archive a download link points at; the download is journaled (once its content has
    passed the integrity check: see `archive.views.download`)."""
    document = archive_of_link(session, link)
    audit.record(
        session,
        now=now,
        actor=actor,
        action="restitution.downloaded",
        subject_type="document",
        subject_id=document.id,
        client_id=document.client_id,
        details={"link_id": link.id},
    )
    return document


def request_by_link(
    session: Session,
    store: BlobStore,
    link: RestitutionLink,
    *,
    now: datetime,
    seal_key: SigningKey,
    trust_roots: Sequence[bytes],
    retention: RetentionPolicy,
) -> tuple[Document, RestitutionLink, str]:
    """The client's contact asked through its link: produce the archive and a download link."""
    client = session.get(Client, link.client_id)
    if client is None:
        raise RestitutionLinkGone("Ce lien n'existe pas.")
    link.used_at = now
    document, _result, download_link, token = request_by_archivist(
        session,
        store,
        client,
        now=now,
        actor=f"contact:client-{client.id}",
        seal_key=seal_key,
        trust_roots=trust_roots,
        retention=retention,
    )
    return document, download_link, token


__all__ = ["ManifestEntry", "RestitutionResult", "write_restitution"]
