"""JSON shapes of the archivist API (the HTTP boundary only)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import url_for
from sqlalchemy import Row
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from app.archive.errors import ArchiveQueryInvalid
from app.archive.models import RestitutionLink, RestitutionRequest, RestitutionStatus
from app.audit.models import AuditEvent
from app.clock import PARIS
from app.documents.models import Document, DocumentKind
from app.messages import msg
from app.plaintext import text_problem

# Identifiers are 32-bit integers in the schema; larger values cannot exist.
MAX_ID = 2**31 - 1


def documents_url() -> str:
    """The collection's URL; a document's links are built on it (one `url_for` per response
    instead of two per document: a page of 50 spent more time routing than querying)."""
    return url_for("archive_api.list_documents")


def document_json(document: Document | Row[Any], base: str | None = None) -> dict[str, Any]:
    """`base`: `documents_url()`, passed in when serialising a whole page."""
    base = base if base is not None else documents_url()
    return {
        "id": document.id,
        "kind": document.kind.value,
        "client_id": document.client_id,
        "reference": document.reference,
        "version": document.version,
        "sha256": document.sha256,
        "size": document.size,
        "media_type": document.media_type,
        "filename": document.filename,
        "created_at": document.created_at.isoformat(),
        "retention_basis": document.retention_basis,
        "retention_until": (
            document.retention_until.isoformat() if document.retention_until else None
        ),
        "legal_hold": document.legal_hold,
        "legal_hold_reason": document.legal_hold_reason,
        "purged_at": document.purged_at.isoformat() if document.purged_at else None,
        "links": {
            "self": f"{base}/{document.id}",
            "content": f"{base}/{document.id}/content",
        },
    }


LIST_PARAMETERS = (
    "client_id",
    "kind",
    "reference",
    "sha256",
    "created_from",
    "created_to",
    "sort",
    "cursor",
    "limit",
)
SORTS = ("id", "-id", "created_at", "-created_at", "reference", "-reference", "size", "-size")


def _paris_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=PARIS)


def _parse_day(raw: str) -> date | None:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return day if day.year >= 1900 else None


def parse_list_query(args: dict[str, str]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    for name in args:
        if name not in LIST_PARAMETERS:
            errors[name] = msg(
                "Paramètre inconnu (acceptés : {accepted}).", accepted=", ".join(LIST_PARAMETERS)
            )
    result: dict[str, Any] = {
        "client_id": None,
        "kind": None,
        "reference": None,
        "sha256": None,
        "created_from": None,
        "created_before": None,
        "sort": "id",
        "cursor": None,
        "limit": 50,
    }
    if "client_id" in args:
        if re.fullmatch(r"[0-9]{1,10}", args["client_id"]) and int(args["client_id"]) <= MAX_ID:
            result["client_id"] = int(args["client_id"])
        else:
            errors["client_id"] = msg("Entier positif attendu.")
    if "kind" in args:
        try:
            result["kind"] = DocumentKind(args["kind"])
        except ValueError:
            errors["kind"] = msg(
                "Nature inconnue ; valeurs : {kinds}",
                kinds=", ".join(k.value for k in DocumentKind),
            )
    if "reference" in args:
        ref = args["reference"]
        if not ref or len(ref) > 60 or text_problem(ref):
            errors["reference"] = msg("Référence de 1 à 60 caractères attendue.")
        else:
            result["reference"] = ref
    if "sha256" in args:
        if re.fullmatch(r"[0-9a-f]{64}", args["sha256"]):
            result["sha256"] = args["sha256"]
        else:
            errors["sha256"] = msg(
                "Empreinte SHA-256 attendue (64 chiffres hexadécimaux minuscules)."
            )
    for name in ("created_from", "created_to"):
        if name in args:
            day = _parse_day(args[name])
            if day is None:
                errors[name] = msg("Date au format AAAA-MM-JJ attendue.")
            elif name == "created_from":
                result["created_from"] = _paris_midnight(day)
            elif day < date.max:
                result["created_before"] = _paris_midnight(day + timedelta(days=1))
    if "sort" in args:
        if args["sort"] in SORTS:
            result["sort"] = args["sort"]
        else:
            errors["sort"] = msg("Tri inconnu ; valeurs : {sorts}", sorts=", ".join(SORTS))
    if "limit" in args:
        raw = args["limit"]
        if re.fullmatch(r"[0-9]{1,3}", raw) and 1 <= int(raw) <= 200:
            result["limit"] = int(raw)
        else:
            errors["limit"] = msg("Entier entre 1 et 200 attendu.")
    if "cursor" in args:
        # the `next_cursor` of the previous page: a document id, as in the description
        raw = args["cursor"]
        if re.fullmatch(r"[1-9][0-9]{0,9}", raw) and int(raw) <= MAX_ID:
            result["cursor"] = int(raw)
        else:
            errors["cursor"] = msg("Curseur de pagination invalide : repassez le next_cursor reçu.")
    if errors:
        raise ArchiveQueryInvalid(errors)
    return result


# RFC 9110 §14.1.2 byte ranges, one or several; positions of at most 18 digits (a document is
# far smaller, and Python refuses to read integers of thousands of digits). Also in openapi.py.
_RANGE_SPEC = "(?:[0-9]{1,18}-[0-9]{0,18}|-[0-9]{1,18})"
RANGE_PATTERN = f"^bytes={_RANGE_SPEC}(?:, ?{_RANGE_SPEC})*$"
_RANGE = re.compile(RANGE_PATTERN.removesuffix("$"))


@dataclass(frozen=True)
class ByteRange:
    first: int
    last: int  # inclusive, as in Content-Range


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The part of a `size`-byte document that `Range` asks for; None for the whole of it.

    As RFC 9110 §14.2 says: several ranges (multipart answers are not supported) or a range
    whose last position precedes its first are ignored (200, whole content); a range starting
    at or beyond the end, or an empty suffix, is not satisfiable (416 with `bytes */size`). A
    header that is not a byte range at all (empty, another syntax) is refused (422)."""
    if header is None:
        return None
    if not _RANGE.fullmatch(header):
        raise ArchiveQueryInvalid(
            {"Range": msg("Plage invalide : bytes=début-fin, bytes=début- ou bytes=-longueur.")}
        )
    specs = header.removeprefix("bytes=").split(",")
    if len(specs) > 1:
        return None
    first, _dash, last = specs[0].strip().partition("-")
    if not first:  # a suffix: the last N bytes
        if int(last) == 0 or size == 0:
            raise RequestedRangeNotSatisfiable(length=size)
        return ByteRange(max(0, size - int(last)), size - 1)
    if last and int(last) < int(first):
        return None
    if int(first) >= size:
        raise RequestedRangeNotSatisfiable(length=size)
    return ByteRange(int(first), min(int(last), size - 1) if last else size - 1)


def event_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "details": json.loads(event.details),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def parse_termination(body: Any) -> tuple[date, str]:
    if not isinstance(body, dict):
        raise ArchiveQueryInvalid(
            {"body": msg('Objet JSON attendu : {"terminated_on": "AAAA-MM-JJ"}.')}
        )
    errors: dict[str, str] = {}
    raw = body.get("terminated_on")
    terminated_on: date | None = None
    if not isinstance(raw, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
        errors["terminated_on"] = msg("Date obligatoire au format AAAA-MM-JJ.")
    else:
        try:
            terminated_on = date.fromisoformat(raw)
        except ValueError:
            errors["terminated_on"] = msg("Date invalide : format AAAA-MM-JJ attendu.")
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        errors["reason"] = msg("Texte attendu.")
    elif len(reason) > 2000:
        errors["reason"] = msg("2 000 caractères au maximum.")
    elif problem := text_problem(reason, multiline=True):
        errors["reason"] = problem
    unknown = set(body) - {"terminated_on", "reason"}
    for name in sorted(unknown):
        errors[name] = msg("Champ inconnu.")
    if errors or terminated_on is None:
        raise ArchiveQueryInvalid(errors)
    return terminated_on, reason if isinstance(reason, str) else ""


def parse_legal_hold(body: Any) -> str:
    """`{"reason": "…"}`: why the document must be kept beyond its retention (required)."""
    if not isinstance(body, dict):
        raise ArchiveQueryInvalid({"body": msg('Objet JSON attendu : {"reason": "…"}.')})
    errors: dict[str, str] = {}
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = msg("Motif obligatoire (ex. référence de la procédure).")
    elif len(reason) > 500:
        errors["reason"] = msg("500 caractères au maximum.")
    elif problem := text_problem(reason):
        errors["reason"] = problem
    for name in sorted(set(body) - {"reason"}):
        errors[name] = msg("Champ inconnu.")
    if errors or not isinstance(reason, str):
        raise ArchiveQueryInvalid(errors)
    return reason.strip()


def restitution_request_json(
    request: RestitutionRequest, document: Document | None, link: RestitutionLink | None
) -> dict[str, Any]:
    """A restitution request's status resource: pending, ready (the archive, where the API
    serves it, until when the emailed link is valid and to whom it went) or failed (why)."""
    ready = request.status is RestitutionStatus.READY and document is not None
    return {
        "id": request.id,
        "client_id": request.client_id,
        "status": request.status.value,
        "requested_at": request.requested_at.isoformat(),
        "finished_at": request.finished_at.isoformat() if request.finished_at else None,
        "document": document_json(document) if ready and document is not None else None,
        "content_url": (
            url_for("archive_api.restitution", client_id=request.client_id) if ready else None
        ),
        "expires_at": link.expires_at.isoformat() if link is not None else None,
        "mail_sent_to": request.mail_sent_to,
        "problem": request.problem,
    }
