"""The verification report as JSON (API) and as rows for the public /verify page."""

from __future__ import annotations

from typing import Any

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
