"""Signing links and consent wording. Pure."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.rendering.french import format_date, format_datetime

# The platform's own signature fields: its certification of the prepared contract (first
# revision), its seal once every party signed, and its seal on the evidence file. Everything
# else in a contract is a signer's field.
CERTIFICATION_FIELD = "certification"
SEAL_FIELD = "cachet-plateforme"
EVIDENCE_FIELD = "cachet-preuve"
PLATFORM_FIELDS = frozenset({CERTIFICATION_FIELD, SEAL_FIELD, EVIDENCE_FIELD})

CODE_VALIDITY = timedelta(minutes=10)
CODE_MAX_FAILURES = 5

# How long the link mailed at completion downloads the signed contract. A bearer link in a mail
# must not open a contract forever (a forwarded or leaked mail would); the signed contract stays
# in the client space and with the vendor afterwards, which the mail says.
DOWNLOAD_LINK_VALIDITY = timedelta(days=30)


def download_link_expiry(completed_at: datetime) -> datetime:
    """When the completion mail's download link stops opening the signed contract."""
    return completed_at + DOWNLOAD_LINK_VALIDITY


def new_code() -> str:
    """A 6-digit one-time code, uniformly drawn from the OS CSPRNG."""
    return f"{secrets.randbelow(1_000_000):06d}"


def code_hash(secret: str, signer_id: int, code: str) -> str:
    """HMAC keyed by the installation secret: a leaked table does not reveal codes (a bare
    hash of 10^6 possible codes would be reversed instantly)."""
    message = f"{signer_id}:{code}".encode()
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def code_matches(secret: str, signer_id: int, code: str, stored: str) -> bool:
    candidate = code.strip().replace(" ", "")
    if not (len(candidate) == 6 and candidate.isascii() and candidate.isdigit()):
        return False
    return hmac.compare_digest(code_hash(secret, signer_id, candidate), stored)


CLIENT_PARTY = "client"


def capacity_of(party: str, *, client_title: str | None, vendor_title: str | None) -> str | None:
    """The capacity (« fonction ») a version printed for a signer of `party`: its client
    signer's, or its vendor countersigner's (None: the version printed none)."""
    return client_title if party == CLIENT_PARTY else vendor_title


def consents_to_cgv(party: str) -> bool:
    """Only the client's signers accept the CGV. The CGV are the vendor's own general terms:
    its countersigner gives its "Bon pour accord" and signs, it accepts no CGV (no checkbox on
    its signing page, no acceptance recorded, none stated in the evidence file)."""
    return party == CLIENT_PARTY


def consent_texts(
    party: str, *, cgv_label: str, cgv_effective: date, contract_number: str, version: int
) -> list[str]:
    """What a signer of ``party`` consents to by signing, in the words shown to it."""
    agreement = agreement_text(contract_number, version)
    if consents_to_cgv(party):
        return [cgv_consent_text(cgv_label, cgv_effective), agreement]
    return [agreement]


def cgv_consent_text(label: str, effective: date) -> str:
    return (
        f"J'ai lu et j'accepte les conditions générales de vente, version {label} "
        f"du {format_date(effective)}."
    )


def agreement_text(contract_number: str, version: int) -> str:
    return f"Bon pour accord : je signe le contrat {contract_number} (version {version})."


REMINDER_GAP = timedelta(hours=24)
"""No reminder within a day of the invitation or of the previous mail with a link (a
reminder, a new link): a late run catching up, or a cadence shorter than the gap, would
otherwise mail a signer twice in a day."""


@dataclass(frozen=True)
class ReminderPlan:
    """A signer's reminders: how many were sent, the most a request sends them, and when the
    next one is due (None: none will be sent, the cap reached, the signer done, the request
    ended or about to expire first). Sent by the first run of the reminder job from then."""

    sent: int
    at_most: int
    next_at: datetime | None


def next_reminder_at(
    *,
    notified_at: datetime | None,
    sent: int,
    last_mailed: datetime | None,
    every_days: int | None,
    schedule: tuple[int, ...],
    at_most: int,
    expires_at: datetime | None,
) -> datetime | None:
    """When a signer still awaited gets its next reminder: every `every_days` days after the
    invitation when the request has its own cadence, else the instance's `schedule` (days
    after the invitation); at most `at_most` in all, never within `REMINDER_GAP` of the
    invitation or the last mail, and none due once the request expired."""
    if notified_at is None or sent >= at_most:
        return None
    if every_days is not None:
        due = notified_at + timedelta(days=every_days * (sent + 1))
    elif sent < len(schedule):
        due = notified_at + timedelta(days=schedule[sent])
    else:
        return None
    due = max(due, notified_at + REMINDER_GAP)
    if last_mailed is not None:
        due = max(due, last_mailed + REMINDER_GAP)
    if expires_at is not None and due >= expires_at:
        return None
    return due


def reminders_text(plan: ReminderPlan) -> str:
    """« Relances : 2 envoyées sur 3 au plus, prochaine le 9 décembre 2026 à 8 h 00 »."""
    if plan.at_most == 0:
        return "Relances : désactivées (PARAPHE_REMINDER_MAX vaut 0)."
    sent = {0: "aucune envoyée", 1: "1 envoyée"}.get(plan.sent, f"{plan.sent} envoyées")
    then = (
        f"prochaine le {format_datetime(plan.next_at)}"
        if plan.next_at is not None
        else "aucune autre prévue"
    )
    return f"Relances : {sent} sur {plan.at_most} au plus, {then}."
