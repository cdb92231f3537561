"""Signing links and consent wording. Pure."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, timedelta

from app.rendering.french import format_date

# The platform's own signature fields: its certification of the prepared contract (first
# revision), its seal once every party signed, and its seal on the evidence file. Everything
# else in a contract is a signer's field.
CERTIFICATION_FIELD = "certification"
SEAL_FIELD = "cachet-plateforme"
EVIDENCE_FIELD = "cachet-preuve"
PLATFORM_FIELDS = frozenset({CERTIFICATION_FIELD, SEAL_FIELD, EVIDENCE_FIELD})

CODE_VALIDITY = timedelta(minutes=10)
CODE_MAX_FAILURES = 5


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
