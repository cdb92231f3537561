"""What every signed contract's PDF must show to independent validators: pyHanko (Paraphe's
own library) and poppler's pdfsig (another implementation)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from signing import VerificationReport

SIGNATURES = ["certification", "signature-1", "signature-2", "cachet-plateforme"]
"""The platform's certification (first revision), client, countersigner, platform seal."""


def assert_sealed_contract(report: VerificationReport) -> None:
    """pyHanko's report: intact, valid, trusted; the four signatures in order, the seal last."""
    assert report.all_intact_and_valid
    assert [s.field_name for s in report.signatures] == SIGNATURES
    assert all(s.trusted for s in report.signatures)


def assert_valid_for_pdfsig(pdf: bytes, path: Path) -> None:
    """poppler's pdfsig, run on `pdf` written at `path`: every signature valid, covering the
    whole document."""
    path.write_bytes(pdf)
    pdfsig = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    valid = pdfsig.stdout.count("Signature Validation: Signature is Valid.")
    assert valid == len(SIGNATURES), pdfsig.stdout
    assert "Total document signed" in pdfsig.stdout
