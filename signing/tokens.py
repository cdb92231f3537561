"""RFC 3161 timestamp tokens over a bare digest (not inside a PDF or a CMS signature).

The application timestamps the head of its hash-chained audit journal: the token's message
imprint is that head hash, so the token proves the journal up to that event existed at the
token's time. :meth:`TrustServices.timestamp_digest` obtains one; :func:`verify_timestamp_token`
checks one offline against trust anchors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, tsp
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko_certvalidator import ValidationContext

from signing._sync import refuse_running_loop
from signing.verify import SignedBytesChecks, load_trust_roots

__all__ = ["TimestampTokenReport", "verify_timestamp_token"]


@dataclass(frozen=True)
class TimestampTokenReport(SignedBytesChecks):
    """What a timestamp token says about the digest it was checked against. The signed bytes
    are the token's message imprint (``intact``: it is the expected digest) and the signer is
    the TSA (``valid``, ``trusted``: its signature and its certificate)."""

    gen_time: datetime | None
    tsa_common_name: str | None
    problem: str | None = None


def verify_timestamp_token(
    token: bytes,
    digest: bytes,
    trust_roots: Sequence[bytes],
    *,
    md_algorithm: str = "sha256",
    validation_time: datetime | None = None,
) -> TimestampTokenReport:
    """Check a DER timestamp ``token`` (a CMS ContentInfo) over ``digest`` (offline), the
    TSA's certificate at ``validation_time`` (default: the token's own time)."""
    refuse_running_loop("verify_timestamp_token")
    roots = load_trust_roots(trust_roots)
    try:
        info = cms.ContentInfo.load(token)
        if info["content_type"].native != "signed_data":
            raise ValueError("not a CMS SignedData")
        signed_data = info["content"]
        tst_info = signed_data["encap_content_info"]["content"].parsed
        if not isinstance(tst_info, tsp.TSTInfo):
            raise ValueError("not a timestamp token (no TSTInfo)")
        signed_data.native  # noqa: B018 - parse everything now, not lazily during validation
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return TimestampTokenReport(False, False, False, None, None, f"unreadable token: {exc}")
    gen_time = tst_info["gen_time"].native
    algorithm = tst_info["message_imprint"]["hash_algorithm"]["algorithm"].native
    # By default the TSA certificate is judged at the token's own time: an anchor must stay
    # verifiable after that certificate expires (offline: no revocation data is fetched).
    moment = validation_time or (gen_time if isinstance(gen_time, datetime) else None)
    context = ValidationContext(trust_roots=roots, allow_fetching=False, moment=moment)

    def expected(algo: str) -> bytes:
        # Any other algorithm than the one asked for cannot match the given digest.
        return digest if algo == md_algorithm else b""

    try:
        status = asyncio.run(validate_tst_signed_data(signed_data, context, expected))
    except Exception as exc:  # pyHanko reports malformed input through many exception types
        return TimestampTokenReport(
            False, False, False, gen_time, None, f"{type(exc).__name__}: {exc}"
        )
    cert = status.get("signing_cert")
    name = cert.subject.native.get("common_name") if cert is not None else None
    intact = bool(status.get("intact")) and algorithm == md_algorithm
    valid = bool(status.get("valid"))
    trusted = bool(status.get("trust_problem_indic") is None and valid)
    problem = None
    if not intact:
        problem = "the token's message imprint is not the expected digest"
    elif not valid:
        problem = "the TSA's signature does not verify"
    elif not trusted:
        problem = "the TSA certificate does not chain up to a trust root"
    return TimestampTokenReport(
        intact=intact,
        valid=valid,
        trusted=trusted,
        gen_time=gen_time if isinstance(gen_time, datetime) else None,
        tsa_common_name=name if isinstance(name, str) else None,
        problem=problem,
    )
