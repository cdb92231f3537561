"""verify_pdf: findings are reported, only unreadable input raises."""

from __future__ import annotations

import re
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.signers import PdfTimeStamper
from pyhanko.sign.timestamps import HTTPTimeStamper

from signing import (
    Coverage,
    DevPki,
    InvalidPdfError,
    ModificationLevel,
    PadesLevel,
    SealKey,
    SignatureKind,
    SignSpec,
    TimestampAuthority,
    TrustRootError,
    ensure_dev_pki,
    sign_pdf,
    verify_pdf,
)
from tests.unit.signing.conftest import drawn_after_signing


@pytest.fixture
def sealed_pdf(prepared_pdf: bytes, seal_key: SealKey, now: datetime) -> bytes:
    signed = sign_pdf(prepared_pdf, seal_key, SignSpec("client", "Zoë Müller", now))
    return sign_pdf(signed, seal_key, SignSpec("seal", "Paraphe", now))


def test_one_tampered_byte_inside_the_signed_range_breaks_integrity(
    sealed_pdf: bytes, dev_pki: DevPki
) -> None:
    # Byte 10 sits in the binary comment of the PDF header: the file still
    # parses, but both signatures cover that byte.
    assert sealed_pdf[9:10] == b"%"
    tampered = bytearray(sealed_pdf)
    tampered[10] ^= 0x01

    report = verify_pdf(bytes(tampered), [dev_pki.root_cert_pem])

    assert len(report.signatures) == 2
    assert not report.all_intact_and_valid
    for sig in report.signatures:
        assert not sig.intact
        assert not sig.ok
        assert sig.problem == "the signed content was modified after signing"


def test_untouched_document_verifies(sealed_pdf: bytes, dev_pki: DevPki) -> None:
    report = verify_pdf(sealed_pdf, [dev_pki.root_cert_pem])
    assert report.signed and report.all_intact_and_valid and report.all_ok


def test_drawing_on_a_page_after_signing_is_reported(sealed_pdf: bytes, dev_pki: DevPki) -> None:
    # The classic mistake: a later "signature" drawn as page content.
    drawn = drawn_after_signing(sealed_pdf, 1, b"0 0 1 rg 100 100 50 20 re f")

    report = verify_pdf(drawn, [dev_pki.root_cert_pem])

    assert report.all_intact_and_valid  # the signed bytes themselves are untouched...
    for sig in report.signatures:
        assert sig.modification_level is ModificationLevel.OTHER  # ...but the page changed
        assert not sig.ok
        assert sig.docmdp_ok is False
        assert sig.problem is not None and sig.problem.startswith("later revisions")
    assert not report.all_ok


def test_certificate_from_another_root_is_valid_but_not_trusted(
    sealed_pdf: bytes, tmp_path: Path
) -> None:
    stranger = ensure_dev_pki(tmp_path / "other-pki")

    report = verify_pdf(sealed_pdf, [stranger.root_cert_pem])

    assert report.all_intact_and_valid
    assert not report.all_ok
    for sig in report.signatures:
        assert sig.valid and not sig.trusted
        assert sig.problem is not None and "trusted root" in sig.problem


def test_no_trust_root_means_nothing_trusted_not_system_roots(sealed_pdf: bytes) -> None:
    report = verify_pdf(sealed_pdf, [])
    assert report.all_intact_and_valid
    assert not any(sig.trusted for sig in report.signatures)


def test_trust_root_may_be_der(sealed_pdf: bytes, dev_pki: DevPki) -> None:
    der = x509.load_pem_x509_certificate(dev_pki.root_cert_pem).public_bytes(Encoding.DER)
    assert verify_pdf(sealed_pdf, [der]).all_ok


def test_unsigned_pdf_gives_an_empty_report(contract_pdf: bytes, dev_pki: DevPki) -> None:
    report = verify_pdf(contract_pdf, [dev_pki.root_cert_pem])
    assert report.signatures == ()
    assert not report.signed
    assert not report.all_intact_and_valid  # nothing signed is not "all valid"


def test_garbled_signature_is_reported_not_raised(sealed_pdf: bytes, dev_pki: DevPki) -> None:
    # Zero out the first signature's CMS blob (keeping its length).
    match = re.search(rb"/Contents <([0-9a-fA-F]+)>", sealed_pdf)
    assert match is not None
    start, end = match.span(1)
    garbled = sealed_pdf[:start] + b"0" * (end - start) + sealed_pdf[end:]

    report = verify_pdf(garbled, [dev_pki.root_cert_pem])

    assert len(report.signatures) == 2
    broken = [s for s in report.signatures if not s.valid]
    assert len(broken) == 1
    assert broken[0].kind is SignatureKind.SIGNATURE
    assert broken[0].problem is not None and broken[0].problem.startswith("verification failed")
    assert not report.all_intact_and_valid


def test_input_that_is_not_a_pdf_raises(dev_pki: DevPki) -> None:
    with pytest.raises(InvalidPdfError):
        verify_pdf(b"%PDF-1.7\nthis is not really a PDF", [dev_pki.root_cert_pem])


def test_unreadable_trust_root_raises(sealed_pdf: bytes) -> None:
    with pytest.raises(TrustRootError):
        verify_pdf(sealed_pdf, [b"not a certificate"])


def test_document_timestamp_is_reported_after_the_signature_it_protects(
    prepared_pdf: bytes, seal_key: SealKey, dev_pki: DevPki, now: datetime, local_tsa: Any
) -> None:
    tsa = TimestampAuthority(local_tsa.url)
    signed = sign_pdf(
        prepared_pdf, seal_key, SignSpec("seal", "Paraphe", now, timestamp_authority=tsa)
    )
    # Document timestamps are the next step (B-LTA); pyHanko adds one directly here.
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    stamped = PdfTimeStamper(HTTPTimeStamper(local_tsa.url)).timestamp_pdf(writer, "sha256")

    report = verify_pdf(stamped.getvalue(), [dev_pki.root_cert_pem, local_tsa.root_pem])

    signature, timestamp = report.signatures
    assert signature.kind is SignatureKind.SIGNATURE
    assert signature.modification_level is ModificationLevel.LTA_UPDATES
    assert signature.pades_level is PadesLevel.B_T  # no DSS yet, so not B-LTA
    assert timestamp.kind is SignatureKind.DOCUMENT_TIMESTAMP
    assert timestamp.signer_common_name == "Test TSA"
    assert timestamp.timestamped and timestamp.pades_level is None
    assert timestamp.coverage is Coverage.ENTIRE_FILE
    assert report.all_ok
