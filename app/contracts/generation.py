"""Generating contracts: version 1 from a quote, then versions n+1 and amendments. Both are
checked under row locks (`checks`), then go through one path (`versioning.add_version`):
quote + particular clauses + the CGV version in force, rendered as one PDF, archived, attached
to the contract; only the checks and the locks before it, and the journal entry after it,
differ."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from app.clauses.models import ClauseVersion
from app.contracts.checks import check_first_version, check_new_version
from app.contracts.models import Contract, ContractVersion, VersionStatus
from app.contracts.printing import ClientSigner, Countersigner, countersigner_of
from app.contracts.versioning import Choices, Entry, add_version
from app.quotes.models import Quote
from app.vendor_settings import VendorIdentity
from storage import BlobStore


def _generated(version: ContractVersion, sha256: str) -> Entry:
    """Version 1's journal entry."""
    cgv = version.cgv_version.label
    contract = version.contract
    return Entry(
        "contract.generated",
        details={"version": 1, "sha256": sha256, "cgv": cgv},
        payload={
            "version": 1,
            "quote": {
                "id": version.quote_id,
                "links": {"api": f"/api/v1/quotes/{version.quote_id}"},
            },
            "client_id": contract.client_id,
            "cgv_version": cgv,
        },
    )


def _version_created(version: ContractVersion, sha256: str) -> Entry:
    """Version n+1's journal entry."""
    return Entry(
        "contract.version_created",
        details={
            "version": version.version,
            "sha256": sha256,
            "amendment": version.amendment,
            "reason": version.reason,
        },
        payload={
            "version": version.version,
            "amendment": version.amendment,
            "client_id": version.contract.client_id,
        },
    )


def generate_contract(
    session: Session,
    store: BlobStore,
    *,
    quote: Quote,
    vendor: VendorIdentity,
    now: datetime,
    actor: str,
    author_id: int | None,
    templates_dir: Path | None = None,
    precedence: Sequence[str] | None = None,
    clauses: Sequence[ClauseVersion] = (),
    free_text: str = "",
    countersigner: Countersigner | None = None,
    signer: ClientSigner | None = None,
) -> ContractVersion:
    """Version 1 of a new contract. ``precedence`` defaults to the template's setting;
    ``signer`` (the client's) to the client record's."""
    check_first_version(session, quote, now)
    choices = Choices(vendor, templates_dir, precedence, clauses, free_text, countersigner, signer)
    return add_version(
        session,
        store,
        contract=None,
        quote=quote,
        choices=choices,
        reason="Version initiale",
        amendment=False,
        now=now,
        actor=actor,
        author_id=author_id,
        entry=_generated,
    )


def new_version(
    session: Session,
    store: BlobStore,
    *,
    contract: Contract,
    reason: str,
    vendor: VendorIdentity,
    now: datetime,
    actor: str,
    author_id: int | None,
    quote: Quote | None = None,
    templates_dir: Path | None = None,
    precedence: Sequence[str] | None = None,
    clauses: Sequence[ClauseVersion] = (),
    free_text: str = "",
    countersigner: Countersigner | None = None,
    based_on: int | None = None,
    signer: ClientSigner | None = None,
) -> ContractVersion:
    """Version n+1 after a change (a revised quote, other clauses, the CGV now in force).

    ``based_on``: the version the user saw when asking (the form sends it). If another version
    was made since, under the lock (a double-click, a colleague), nothing is created:
    `VersionAlreadyCreated` names the one that exists.

    Earlier versions are never modified, except that an unsigned one is marked superseded.
    After a signed version, the new one is an amendment (avenant), to be signed again. A
    version out for signature blocks a new one (its signers must not sign a stale text)."""
    reason = check_new_version(
        session, contract, reason=reason, based_on=based_on, quote=quote, now=now
    )
    latest = contract.latest
    quote = quote if quote is not None else latest.printed_quote
    amendment = any(v.status is VersionStatus.SIGNED for v in contract.versions)
    vendor_signer = countersigner or countersigner_of(latest)
    choices = Choices(vendor, templates_dir, precedence, clauses, free_text, vendor_signer, signer)
    return add_version(
        session,
        store,
        contract=contract,
        quote=quote,
        choices=choices,
        reason=reason,
        amendment=amendment,
        now=now,
        actor=actor,
        author_id=author_id,
        entry=_version_created,
    )
