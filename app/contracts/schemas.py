"""The API's shapes for contracts: the body of a generation, and the version answered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email

from app.contracts.generation import MAX_REASON
from app.contracts.models import ContractGeneration, ContractVersion, GenerationStatus
from app.contracts.printing import MAX_FREE_TEXT
from app.json_input import Reader

MAX_CLAUSES = 50
MAX_ID = 2**31 - 1
MAX_VERSION = 9999


@dataclass(frozen=True)
class GenerationBody:
    clause_versions: list[int]
    free_text: str
    countersigner: tuple[str, str] | None


def parse_generation(body: Any) -> tuple[GenerationBody, dict[str, str]]:
    """Which clause versions of the library, the free particular terms, and who countersigns
    for the vendor when no signatory is configured (`PARAPHE_VENDOR_SIGNER_*`)."""
    reader = Reader(body)
    reader.only(("clause_versions", "free_text", "countersigner"))
    clauses = reader.integers("clause_versions", max_items=MAX_CLAUSES, maximum=MAX_ID)
    free_text = reader.text("free_text", max_length=MAX_FREE_TEXT, multiline=True)
    countersigner = None
    if reader.has("countersigner"):
        part = Reader(reader.members["countersigner"], "countersigner", reader.errors)
        part.only(("name", "email"))
        name = part.text("name", max_length=200, required=True)
        email = part.text("email", max_length=254, required=True)
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            part.refuse("email", "Adresse e-mail invalide (ex. prenom.nom@entreprise.fr).")
        countersigner = (name.strip(), email)
    return GenerationBody(clauses, free_text, countersigner), reader.errors


@dataclass(frozen=True)
class NewVersionBody:
    reason: str
    clause_versions: list[int]
    free_text: str
    quote_id: int | None
    based_on: int | None


def parse_new_version(body: Any) -> tuple[NewVersionBody, dict[str, str]]:
    """What the web's "nouvelle version" form asks: the reason (required), the clauses and
    free text printed on it, a revised quote of the same client, and the version the CRM saw
    last (`based_on`: a version made since is a 409, not a second version). The signers are
    fixed by the contract: the client's and the vendor's of its signature page."""
    reader = Reader(body)
    reader.only(("reason", "clause_versions", "free_text", "quote_id", "based_on"))
    reason = reader.text("reason", max_length=MAX_REASON, required=True, multiline=True)
    clauses = reader.integers("clause_versions", max_items=MAX_CLAUSES, maximum=MAX_ID)
    free_text = reader.text("free_text", max_length=MAX_FREE_TEXT, multiline=True)
    quote_id = reader.integer("quote_id", minimum=1, maximum=MAX_ID)
    based_on = reader.integer("based_on", minimum=1, maximum=MAX_VERSION)
    return NewVersionBody(reason, clauses, free_text, quote_id, based_on), reader.errors


def version_json(version: ContractVersion) -> dict[str, Any]:
    contract = version.contract
    return {
        "contract_id": contract.id,
        "number": contract.number,
        "client_id": contract.client_id,
        "quote_id": version.quote_id,
        "version": version.version,
        "status": version.status.value,
        "cgv_version": version.cgv_version.label,
        "document_id": version.document_id,
        "sha256": version.document.sha256,
        "created_at": version.created_at.isoformat(),
        "links": {
            "document": f"/api/v1/documents/{version.document_id}",
            "content": f"/api/v1/documents/{version.document_id}/content",
            "signature_requests": f"/api/v1/contracts/{contract.id}/signature-requests",
        },
    }


def generation_json(
    row: ContractGeneration, message: str, version: ContractVersion | None
) -> dict[str, Any]:
    """A generation asked through the API: `message` says in French where it stands (and,
    failed, why and what to do); `version` is the version once this generation made it."""
    failed = row.status is GenerationStatus.FAILED
    return {
        "id": row.id,
        "status": row.status.value,
        "message": message,
        "error": message if failed else None,
        "quote_id": row.quote_id,
        "contract_id": row.contract_id,
        "requested_at": row.requested_at.isoformat(),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "version": version_json(version) if version is not None else None,
        "links": {
            "self": f"/api/v1/contract-generations/{row.id}",
            "retry": f"/api/v1/quotes/{row.quote_id}/contract"
            if failed and row.first_version
            else None,
        },
    }
