"""JSON shapes of the CGV API and parsing of its query parameters (the HTTP boundary only)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from app.messages import msg
from app.terms.errors import CgvQueryInvalid
from app.terms.models import CgvAcceptance, CgvVersion
from app.terms.planning import Progress

# As the OpenAPI description says (`_DATE`): ASCII digits, a year from 1900 on.
_ISO_DATE = re.compile(r"(19|[2-9][0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}")


def parse_at(value: str | None, default: date) -> date:
    """`?at=AAAA-MM-JJ`; absent → `default` (today in Paris). Present but empty is refused:
    `at=` is not a date, and answering for today would hide the caller's mistake."""
    if value is None:
        return default
    if not _ISO_DATE.fullmatch(value):
        raise CgvQueryInvalid(
            {"at": msg("Date attendue au format AAAA-MM-JJ, à partir de 1900 (ex. 2026-01-31).")}
        )
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CgvQueryInvalid({"at": msg("La date {value} n'existe pas.", value=value)}) from None


def version_summary(version: CgvVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "label": version.label,
        "kind": version.kind.value,
        "effective_date": version.effective_date.isoformat(),
        "sha256": version.sha256,
    }


def acceptance_json(a: CgvAcceptance) -> dict[str, Any]:
    return {
        "id": a.id,
        "client_id": a.client_id,
        "cgv_version": version_summary(a.cgv_version),
        "text_sha256": a.text_sha256,
        "person_name": a.person_name,
        "person_email": a.person_email,
        "method": a.method.value,
        "accepted_at": a.accepted_at.isoformat(),
        "ip": a.ip,
        "user_agent": a.user_agent,
        "contract_version_id": a.contract_version_id,
        "signature_request_id": a.signature_request_id,
    }


def progress_json(progress: Progress) -> dict[str, Any]:
    """The notification progress of a version: the page's poll and the API say the same."""
    return {
        "notified": progress.notified,
        "total": progress.total,
        "pending": progress.pending,
        "done": progress.done,
        "text": progress.text,
    }
