"""The restitution archive: every document of a client, by kind, with a hash manifest.

Written to a file object in constant memory: each blob is copied into the zip in chunks and
hashed on the way, so the manifest states what is really in the archive.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import secrets
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.archive.errors import RestitutionLinkGone
from app.archive.models import Document, DocumentKind, LinkPurpose, RestitutionLink
from app.archive.services import documents_of_client, integrity_failure, record_deposit
from app.audit import services as audit
from app.clients.models import Client
from app.config import RetentionPolicy
from app.terms.services import acceptances_of
from signing import (
    SigningError,
    SigningKey,
    VerificationReport,
    seal_detached,
    verify_pdf,
)
from storage import BlobCorrupted, BlobNotFound, BlobStore

PARIS = ZoneInfo("Europe/Paris")
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


@dataclass(frozen=True)
class RestitutionResult:
    entries: list[ManifestEntry]
    manifest_sha256: str
    seal_signer: str


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


def restituted_documents(session: Session, client_id: int) -> list[Document]:
    """What a restitution contains: every live document except earlier restitution archives
    (an archive inside the next one would grow without end and change the file list)."""
    return [
        d for d in documents_of_client(session, client_id) if d.kind is not DocumentKind.RESTITUTION
    ]


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
    """Write the archive to `out` (a seekable file) in constant memory: each blob is copied in
    chunks and hashed on the way, so the manifest states what is really in the archive. Only
    signed PDFs are read whole, one at a time, to verify their signatures."""
    entries: list[ManifestEntry] = []
    used: set[str] = set()

    def unique(path: str, document_id: int) -> str:
        if path in used:
            stem, dot, ext = path.rpartition(".")
            path = f"{stem}-{document_id}.{ext}" if dot else f"{path}-{document_id}"
        used.add(path)
        return path

    with zipfile.ZipFile(out, "w", allowZip64=True) as archive:
        for document in restituted_documents(session, client.id):
            path = unique(f"{document.kind.folder}/{_safe_name(document.filename)}", document.id)
            info = zipfile.ZipInfo(path, date_time=_zip_time(document.created_at))
            # PDFs are already compressed: storing them keeps throughput close to raw copying.
            info.compress_type = zipfile.ZIP_STORED
            digest = hashlib.sha256()
            size = 0
            try:
                with (
                    store.open(document.sha256) as src,
                    archive.open(info, "w", force_zip64=True) as dst,
                ):
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        dst.write(chunk)
            except (BlobCorrupted, BlobNotFound) as exc:
                # Never hand over a damaged archive: refuse, and journal which document failed.
                raise integrity_failure(session, document, exc, actor=actor, now=now) from exc
            entries.append(
                ManifestEntry(
                    path=path,
                    sha256=digest.hexdigest(),
                    size=size,
                    kind=document.kind.value,
                    reference=document.reference,
                    version=document.version,
                    created_at=document.created_at.isoformat(),
                    retention_until=(
                        document.retention_until.isoformat() if document.retention_until else None
                    ),
                    retention_basis=document.retention_basis,
                )
            )
            if document.kind is DocumentKind.SIGNED_CONTRACT:
                try:
                    report_json = verification_json(
                        verify_pdf(store.get(document.sha256), trust_roots, validation_time=now)
                    )
                except SigningError as exc:  # unreadable as a signed PDF: say so, go on
                    report_json = json.dumps(
                        {"all_ok": False, "error": str(exc)}, ensure_ascii=False
                    ).encode("utf-8")
                stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
                entries.append(
                    _write_bytes(
                        archive,
                        unique(f"rapports-de-verification/{stem}.json", document.id),
                        report_json,
                        kind="verification_report",
                        reference=document.reference,
                        version=document.version,
                        created_at=now,
                    )
                )

        acceptances: list[dict[str, Any]] = []
        seen_versions: set[int] = set()
        for acc in acceptances_of(session, client.id):
            acceptances.append(
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
            version = acc.cgv_version
            if version.id not in seen_versions:
                seen_versions.add(version.id)
                entries.append(
                    _write_bytes(
                        archive,
                        unique(f"cgv/CGV-{_safe_name(version.label)}.md", version.id),
                        version.body_markdown.encode("utf-8"),
                        kind="cgv",
                        reference=f"CGV-{version.label}",
                        created_at=version.published_at,
                    )
                )
        entries.append(
            _write_bytes(
                archive,
                "acceptations-cgv.json",
                json.dumps(acceptances, ensure_ascii=False, indent=2).encode("utf-8"),
                kind="cgv_acceptances",
                reference=f"client-{client.id}",
                created_at=now,
            )
        )
        journal = [
            {
                "id": ev.id,
                "at": ev.at.isoformat(),
                "actor": ev.actor,
                "action": ev.action,
                "subject": f"{ev.subject_type}:{ev.subject_id}",
                "details": json.loads(ev.details),
                "prev_hash": ev.prev_hash,
                "hash": ev.hash,
            }
            for ev in audit.events_for(session, client_id=client.id)
        ]
        entries.append(
            _write_bytes(
                archive,
                "journal.json",
                json.dumps(journal, ensure_ascii=False, indent=2).encode("utf-8"),
                kind="journal",
                reference=f"client-{client.id}",
                created_at=now,
            )
        )
        entries.append(
            _write_bytes(
                archive,
                "LISEZMOI.txt",
                README.encode("utf-8"),
                kind="readme",
                reference="LISEZMOI",
                created_at=now,
            )
        )
        entries.append(
            _write_bytes(
                archive,
                "index.csv",
                _index_csv(entries),
                kind="index",
                reference="index",
                created_at=now,
            )
        )
        manifest = {
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
            "files": [asdict(entry) for entry in entries],
        }
        manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
        info = zipfile.ZipInfo("manifest.json", date_time=_zip_time(now))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, manifest_bytes)
        seal = seal_detached(manifest_bytes, seal_key, now)
        info = zipfile.ZipInfo("manifest.json.p7s", date_time=_zip_time(now))
        archive.writestr(info, seal)
    manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
    return RestitutionResult(
        entries=entries, manifest_sha256=manifest_sha256, seal_signer=seal_key.subject_common_name
    )


def _index_csv(entries: Sequence[ManifestEntry]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(INDEX_COLUMNS)
    for entry in entries:
        row = asdict(entry)
        writer.writerow([_csv_cell(row[column]) for column in INDEX_COLUMNS])
    # A BOM so that spreadsheet software reads the accents as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ would be a formula in a spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _write_bytes(
    archive: zipfile.ZipFile,
    path: str,
    data: bytes,
    *,
    kind: str,
    reference: str,
    created_at: datetime,
    version: int = 1,
) -> ManifestEntry:
    info = zipfile.ZipInfo(path, date_time=_zip_time(created_at))
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)
    return ManifestEntry(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        kind=kind,
        reference=reference,
        version=version,
        created_at=created_at.isoformat(),
        retention_until=None,
        retention_basis=None,
    )


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
            "files": len(result.entries),
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
    """Produce the archive and an expiring download link for the client's contact."""
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
    token = secrets.token_urlsafe(32)
    link = RestitutionLink(
        client_id=client.id,
        purpose=purpose,
        token_hash=_token_hash(token),
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
            RestitutionLink.token_hash == _token_hash(token), RestitutionLink.purpose == purpose
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


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def download(session: Session, link: RestitutionLink, *, now: datetime, actor: str) -> Document:
    """The archive a download link points at; the download is journaled."""
    document = session.get(Document, link.document_id) if link.document_id else None
    if document is None or document.purged_at is not None:
        raise RestitutionLinkGone("Cette archive n'est plus disponible.")
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
    actor = f"contact:client-{client.id}"
    document, _result = produce_restitution(
        session,
        store,
        client,
        now=now,
        actor=actor,
        seal_key=seal_key,
        trust_roots=trust_roots,
        retention=retention,
    )
    download_link, token = create_link(
        session, client, purpose=LinkPurpose.DOWNLOAD, document=document, now=now, actor=actor
    )
    return document, download_link, token


__all__ = ["ManifestEntry", "RestitutionResult", "write_restitution"]
