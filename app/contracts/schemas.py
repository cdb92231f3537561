"""The API's shapes for contracts: the body of a generation, and the version answered."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.clients.services import MAX_SIGNER_TITLE, normalise_email, signer_title_problem
from app.contracts.checks import MAX_REASON
from app.contracts.models import ContractGeneration, ContractVersion, GenerationStatus
from app.contracts.printing import MAX_FREE_TEXT, ClientSigner
from app.json_input import Reader

MAX_CLAUSES = 50
MAX_ID = 2**31 - 1
MAX_VERSION = 9999


@dataclass(frozen=True)
class GenerationBody:
    clause_versions: list[int]
    free_text: str
    countersigner: tuple[str, str] | None
    signer: ClientSigner | None = None  # the client's; None: the client record's


def person(reader: Reader, member: str) -> tuple[str, str] | None:
    """A `{name, email}` member, checked as the client form checks its signer (200 and 254
    characters at most, no control character, an address that can be mailed); absent: None."""
    part = _member(reader, member, ("name", "email"))
    return None if part is None else _name_and_email(reader, part)


def client_signer(reader: Reader, member: str = "signer") -> ClientSigner | None:
    """The client's signer a body names: `person`'s members and its capacity (`title`,
    optional, checked as the client record's); absent: None. Named here, the signer is not
    the record's: it has only the title given with it."""
    part = _member(reader, member, ("name", "email", "title"))
    if part is None:
        return None
    name, email = _name_and_email(reader, part)
    title = part.text("title", max_length=MAX_SIGNER_TITLE)
    if part.at("title") not in reader.errors and (problem := signer_title_problem(title)):
        part.refuse("title", problem)
    return ClientSigner(name=name, email=email, title=title.strip() or None)


def _member(reader: Reader, member: str, allowed: tuple[str, ...]) -> Reader | None:
    if not reader.has(member):
        return None
    part = Reader(reader.members[member], member, reader.errors)
    part.only(allowed)
    return part


def _name_and_email(reader: Reader, part: Reader) -> tuple[str, str]:
    name = part.text("name", max_length=200, required=True)
    email = part.text("email", max_length=254, required=True)
    if part.at("email") not in reader.errors:
        email, problem = normalise_email(email)
        if problem:
            part.refuse("email", problem)
    return name.strip(), email


WEB_SIGNER_FIELDS = {
    "signer.name": "signer_name",
    "signer.email": "signer_email",
    "signer.title": "signer_title",
}
"""The web form's fields for the client's signer, by the API member they stand for."""


def parse_web_signer(form: Mapping[str, str]) -> tuple[ClientSigner | None, dict[str, str]]:
    """The client's signer typed in the web generation form (prefilled with the client
    record's), read by the API's rules (`person`) so both refuse the same input with the same
    words; a form without these fields (an older page) leaves the client record's."""
    if not any(field in form for field in WEB_SIGNER_FIELDS.values()):
        return None, {}
    typed = {
        member.split(".")[1]: form.get(field, "") for member, field in WEB_SIGNER_FIELDS.items()
    }
    reader = Reader({"signer": typed})
    signer = client_signer(reader)
    return signer, {WEB_SIGNER_FIELDS[path]: message for path, message in reader.errors.items()}


def parse_generation(body: Any) -> tuple[GenerationBody, dict[str, str]]:
    """Which clause versions of the library, the free particular terms, who signs for the
    client (`signer`; absent: the client record's signer) and who countersigns for the vendor
    when no signatory is configured (`PARAPHE_VENDOR_SIGNER_*`)."""
    reader = Reader(body)
    reader.only(("clause_versions", "free_text", "countersigner", "signer"))
    clauses = reader.integers("clause_versions", max_items=MAX_CLAUSES, maximum=MAX_ID)
    free_text = reader.text("free_text", max_length=MAX_FREE_TEXT, multiline=True)
    countersigner = person(reader, "countersigner")
    signer = client_signer(reader)
    return GenerationBody(clauses, free_text, countersigner, signer), reader.errors


@dataclass(frozen=True)
class NewVersionBody:
    reason: str
    clause_versions: list[int]
    free_text: str
    quote_id: int | None
    based_on: int | None
    signer: ClientSigner | None = None  # the client's; None: the client record's


def parse_new_version(body: Any) -> tuple[NewVersionBody, dict[str, str]]:
    """What the web's "nouvelle version" form asks: the reason (required), the clauses and
    free text printed on it, a revised quote of the same client, and the version the CRM saw
    last (`based_on`: a version made since is a 409, not a second version), who signs for the
    client (`signer`; absent: the client record's signer). The vendor's countersigner is the
    one of the latest version's signature page."""
    reader = Reader(body)
    reader.only(("reason", "clause_versions", "free_text", "quote_id", "based_on", "signer"))
    reason = reader.text("reason", max_length=MAX_REASON, required=True, multiline=True)
    clauses = reader.integers("clause_versions", max_items=MAX_CLAUSES, maximum=MAX_ID)
    free_text = reader.text("free_text", max_length=MAX_FREE_TEXT, multiline=True)
    quote_id = reader.integer("quote_id", minimum=1, maximum=MAX_ID)
    based_on = reader.integer("based_on", minimum=1, maximum=MAX_VERSION)
    signer = client_signer(reader)
    return NewVersionBody(reason, clauses, free_text, quote_id, based_on, signer), reader.errors


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
        "signer": {
            "name": version.signer_name,
            "email": version.signer_email,
            "title": version.signer_title,
        },
        # The vendor's side of the signature page, as printed: a CRM sees who countersigns
        # and in what capacity without downloading the PDF.
        "countersigner": (
            {
                "name": version.countersigner_name,
                "email": version.countersigner_email,
                "title": version.countersigner_title,
            }
            if version.countersigner_name and version.countersigner_email
            else None
        ),
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
