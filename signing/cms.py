"""Detached CMS seals over arbitrary bytes (e.g. a restitution archive's manifest.json).

The seal is a DER-encoded CMS SignedData (RFC 5652) without the content: anyone can check it
with standard tools, for instance
``openssl cms -verify -binary -inform DER -in manifest.json.p7s -content manifest.json
-CAfile root.pem -purpose any``. Like the PDF functions, these run pyHanko's event loop through
``asyncio.run``: call them from plain (threaded) code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from asn1crypto import cms
from pyhanko.sign.general import SigningError as PyhankoSigningError
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
from pyhanko_certvalidator import ValidationContext

from signing._sync import refuse_running_loop
from signing.errors import InvalidSpecError, SigningError
from signing.keys import SigningKey
from signing.verify import SignedBytesChecks, load_trust_roots


@dataclass(frozen=True)
class DetachedSealReport(SignedBytesChecks):
    """What a detached seal says about the bytes it was checked against: intact, valid and
    trusted (the seal's certificate), then who sealed and when."""

    signer_common_name: str | None
    signing_time: datetime | None
    problem: str | None = None


def seal_detached(data: bytes | BinaryIO, key: SigningKey, now: datetime) -> bytes:
    """A detached CMS signature (SHA-256) of ``data`` by ``key``, signing time ``now``.

    ``data`` may be a binary file positioned at the start of the content: pyHanko hashes it in
    chunks, so a large manifest is sealed without being held in memory."""
    refuse_running_loop("seal_detached")
    if now.tzinfo is None:
        raise InvalidSpecError("now must be timezone-aware")
    key.check_validity(now)
    signer = key.pyhanko_signer()
    attrs = PdfCMSSignedAttributes(signing_time=now)
    try:
        info = asyncio.run(
            signer.async_sign_general_data(
                data, "sha256", detached=True, signed_attr_settings=attrs
            )
        )
    except PyhankoSigningError as exc:
        raise SigningError(f"cannot seal: {exc}") from exc
    der: bytes = info.dump()
    return der


def verify_detached(
    data: bytes,
    seal: bytes,
    trust_roots: Sequence[bytes],
    *,
    validation_time: datetime | None = None,
) -> DetachedSealReport:
    """Check a detached CMS ``seal`` over ``data`` against ``trust_roots`` (offline)."""
    refuse_running_loop("verify_detached")
    roots = load_trust_roots(trust_roots)
    try:
        info = cms.ContentInfo.load(seal)
        signed_data = info["content"]
        if info["content_type"].native != "signed_data":
            raise ValueError("not a CMS SignedData")
        signed_data.native  # noqa: B018 - parse everything now, not lazily during validation
    except (ValueError, TypeError, KeyError) as exc:
        return DetachedSealReport(False, False, False, None, None, f"unreadable seal: {exc}")
    context = ValidationContext(trust_roots=roots, allow_fetching=False, moment=validation_time)
    try:
        status = asyncio.run(
            async_validate_detached_cms(data, signed_data, signer_validation_context=context)
        )
    except Exception as exc:  # pyHanko reports malformed input through many exception types
        return DetachedSealReport(False, False, False, None, None, f"{type(exc).__name__}: {exc}")
    cert = status.signing_cert
    name = cert.subject.native.get("common_name") if cert is not None else None
    problem = None
    if not status.intact:
        problem = "the data does not match the sealed digest"
    elif not status.valid:
        problem = "the signature value does not verify"
    elif not status.trusted:
        problem = "the certificate does not chain up to a trust root"
    return DetachedSealReport(
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        signer_common_name=name if isinstance(name, str) else None,
        signing_time=status.signer_reported_dt,
        problem=problem,
    )
