"""Verifying a PDF's signatures (an upload or an archived document)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.documents.models import Document
from app.documents.services import get_document, read_content
from app.messages import msg
from app.signatures.errors import (
    ArchivedNotAPdf,
    NotAPdf,
)
from signing import (
    InvalidPdfError,
    VerificationReport,
    verify_pdf,
)
from storage import BlobStore


@dataclass(frozen=True)
class Verification:
    sha256: str
    report: VerificationReport
    archived: Document | None


def verify_bytes(
    session: Session, data: bytes, *, trust_roots: list[bytes], now: datetime
) -> Verification:
    """Verify a PDF's signatures; say whether these exact bytes are in the archive.
    Raises NotAPdf for anything that is not a readable PDF."""
    if not data.startswith(b"%PDF-"):
        raise NotAPdf(msg("Ce fichier n'est pas un PDF."))
    try:
        report = verify_pdf(data, trust_roots, validation_time=now)
    except InvalidPdfError as exc:
        raise NotAPdf(msg("Ce PDF est illisible ou endommagé.")) from exc
    sha = hashlib.sha256(data).hexdigest()
    archived = session.scalar(select(Document).where(Document.sha256 == sha).limit(1))
    return Verification(sha256=sha, report=report, archived=archived)


def verify_document(
    session: Session,
    store: BlobStore,
    document_id: int,
    *,
    trust_roots: list[bytes],
    now: datetime,
    actor: str,
) -> Verification:
    """Verify an archived PDF's signatures; its bytes are read through the archive's integrity
    check (`DocumentIntegrityFailed`, journaled, when the blob is damaged or missing)."""
    document = get_document(session, document_id)
    if document.media_type != "application/pdf":
        raise ArchivedNotAPdf(
            msg("Le document n° {document_id} n'est pas un PDF.", document_id=document_id)
        )
    data = read_content(session, store, document, actor=actor, now=now)
    try:
        return verify_bytes(session, data, trust_roots=trust_roots, now=now)
    except NotAPdf as exc:  # an archived document: its state, not the request, is the problem
        raise ArchivedNotAPdf(
            msg("Le document n° {document_id} n'est pas un PDF lisible.", document_id=document_id)
        ) from exc
