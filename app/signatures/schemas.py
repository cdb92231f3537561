"""The verification report as JSON (API) and as rows for the public /verify page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.contracts.models import Contract
from app.contracts.schemas import version_json
from app.json_input import Reader
from app.signatures.models import SignatureRequest, Signer
from app.signatures.rules import ReminderPlan
from signing import SignatureReport, VerificationReport


def signature_json(sig: SignatureReport) -> dict[str, Any]:
    return {
        "field": sig.field_name,
        "kind": sig.kind.value,
        "signer": sig.claimed_signer_name or sig.signer_common_name,
        "certificate_subject": sig.signer_subject,
        "signing_time": sig.signing_time.isoformat() if sig.signing_time else None,
        "signing_time_source": sig.signing_time_source.value if sig.signing_time_source else None,
        "timestamped": sig.timestamped,
        "intact": sig.intact,
        "valid": sig.valid,
        "chain": "trusted" if sig.trusted else "untrusted",
        "modification_level": sig.modification_level.value if sig.modification_level else None,
        "docmdp_ok": sig.docmdp_ok,
        "coverage": sig.coverage.value if sig.coverage else None,
        "pades_level": sig.pades_level.value if sig.pades_level else None,
        "ok": sig.ok,
        "problem": sig.problem,
    }


def report_json(report: VerificationReport) -> dict[str, Any]:
    return {
        "signed": report.signed,
        "all_intact_and_valid": report.all_intact_and_valid,
        "all_ok": report.all_ok,
        "signatures": [signature_json(s) for s in report.signatures],
    }


# --- signature requests in the write API ---------------------------------------------------

ORDERS = ("sequential", "parallel")
MAX_REASON = 2000


MAX_EXPIRY_DAYS = 90

MAX_REMINDER_EVERY_DAYS = 30
"""A cadence of a month at most: a request lasts `MAX_EXPIRY_DAYS` at most, a longer one
would hardly remind anybody."""


@dataclass(frozen=True)
class SendBody:
    version: int | None  # None: the latest
    parallel: bool  # the vendor countersigns at the same time as the client
    expires_in_days: int | None  # None: the instance's setting
    reminder_every_days: int | None = None  # None: the instance's schedule


def parse_send(body: Any) -> tuple[SendBody, dict[str, str]]:
    """`{"version": n, "order": "sequential" | "parallel", "expires_in_days": d,
    "reminder_every_days": r}` (r null: as absent, the instance's schedule)."""
    reader = Reader(body)
    reader.only(("version", "order", "expires_in_days", "reminder_every_days"))
    version = reader.integer("version", minimum=1, maximum=9999)
    order = reader.choice("order", ORDERS, default="sequential")
    days = reader.integer("expires_in_days", minimum=1, maximum=MAX_EXPIRY_DAYS)
    every = None
    if reader.members.get("reminder_every_days") is not None:
        every = reader.integer("reminder_every_days", minimum=1, maximum=MAX_REMINDER_EVERY_DAYS)
    return SendBody(version, order == "parallel", days, every), reader.errors


def form_cadence(value: str) -> int | None:
    """The send form's `reminder_every_days`: empty, the instance's schedule; else a number
    of days within the API's bounds. ValueError for anything else (a forged form)."""
    if not value:
        return None
    days = int(value)
    if not 1 <= days <= MAX_REMINDER_EVERY_DAYS:
        raise ValueError(value)
    return days


def parse_cancel(body: Any) -> tuple[str, dict[str, str]]:
    reader = Reader(body)
    reader.only(("reason",))
    reason = reader.text("reason", max_length=MAX_REASON, required=True, multiline=True)
    return reason, reader.errors


def parse_remind(body: Any) -> dict[str, str]:
    """A reminder asks nothing: an empty object (a member would be a typo, refused)."""
    reader = Reader(body)
    reader.only(())
    return reader.errors


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _content(document_id: int | None) -> str | None:
    return None if document_id is None else f"/api/v1/documents/{document_id}/content"


def signer_identity(s: Signer) -> dict[str, Any]:
    """Who a signer is and where they stand in the order: the same keys in the API's request
    and in the evidence file, so the two never describe a signer differently."""
    return {
        "position": s.position,
        "group": s.group,
        "party": s.party,
        "role": s.role,
        "name": s.name,
        "email": s.email,
    }


def request_json(
    request: SignatureRequest, reminders: Mapping[int, ReminderPlan]
) -> dict[str, Any]:
    """A request's state and its signers' (never their links: those go to the signers only);
    the signed PDF and the evidence file once sealed, through the archivist's document API.
    `reminders`: each signer's (by id); the request's are their sum and the soonest due."""
    version = request.contract_version
    plans = [reminders[s.id] for s in request.signers]
    upcoming = [p.next_at for p in plans if p.next_at is not None]
    return {
        "id": request.id,
        "status": request.status.value,
        "contract_id": version.contract_id,
        "contract_number": version.contract.number,
        "version": version.version,
        "created_at": request.created_at.isoformat(),
        "expires_at": _at(request.expires_at),
        "completed_at": _at(request.completed_at),
        "sealed_at": _at(request.sealed_at),
        "closed_reason": request.closed_reason,
        "reminder_every_days": request.reminder_every_days,
        "reminders_sent": sum(p.sent for p in plans),
        "reminders_max": plans[0].at_most if plans else 0,
        "next_reminder_at": _at(min(upcoming) if upcoming else None),
        "signers": [
            {
                **signer_identity(s),
                "status": s.status.value,
                "notified_at": _at(s.notified_at),
                "opened_at": _at(s.opened_at),
                "signed_at": _at(s.signed_at),
                "declined_at": _at(s.declined_at),
                "reminders_sent": s.reminders_sent,
                "next_reminder_at": _at(reminders[s.id].next_at),
            }
            for s in request.signers
        ],
        "links": {
            "self": f"/api/v1/signature-requests/{request.id}",
            "signed_document": _content(request.signed_document_id if request.sealed_at else None),
            "evidence": _content(request.evidence_document_id),
        },
    }


def contract_json(contract: Contract, requests: Sequence[SignatureRequest]) -> dict[str, Any]:
    """A contract as a CRM follows it: every version (the latest last, its status the
    contract's), and every signature request sent, the latest first (each one's signers at
    its own `links.self`)."""
    latest = contract.latest
    return {
        "id": contract.id,
        "number": contract.number,
        "client_id": contract.client_id,
        "quote_id": contract.quote_id,
        "created_at": contract.created_at.isoformat(),
        "status": latest.status.value,
        "latest_version": latest.version,
        "versions": [version_json(version) for version in contract.versions],
        "signature_requests": [
            {
                "id": request.id,
                "version": request.contract_version.version,
                "status": request.status.value,
                "created_at": request.created_at.isoformat(),
                "links": {
                    "self": f"/api/v1/signature-requests/{request.id}",
                    "signed_document": _content(
                        request.signed_document_id if request.sealed_at else None
                    ),
                },
            }
            for request in requests
        ],
        "links": {
            "self": f"/api/v1/contracts/{contract.id}",
            "client": f"/api/v1/clients/{contract.client_id}",
            "signature_requests": f"/api/v1/contracts/{contract.id}/signature-requests",
        },
    }
