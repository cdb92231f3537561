"""Certification, three signers and a B-LTA seal against the certomancer PKI over HTTP."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

import pytest
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESStatus
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager

from signing import (
    DevPki,
    ModificationLevel,
    PadesLevel,
    SealKey,
    SignatureBox,
    SignatureFieldSpec,
    SignatureKind,
    SigningTimeSource,
    SignSpec,
    TimestampAuthority,
    TimestampError,
    TrustServices,
    ValidationDataError,
    add_signature_fields,
    certify_pdf,
    seal_pdf,
    sign_pdf,
    verify_pdf,
)
from tests.loopback import free_port
from tests.pki.fixtures import TestPki
from tests.unit.signing.conftest import PARIS, drawn_after_signing

# certomancer (TSA, OCSP, CRL) runs on the real clock: see the real_clock marker.
pytestmark = pytest.mark.real_clock

# Generous: the test machine is shared and sometimes very loaded.
TIMEOUT = 60.0
SIGNER_NAMES = ("Zoë Müller", "Jean Dupont", "李小龙")
FIELDS = [
    SignatureFieldSpec(f"signer-{i + 1}", SignatureBox(page=-1, x1=60, y1=y, x2=300, y2=y + 80))
    for i, y in enumerate((80, 200, 320))
] + [SignatureFieldSpec("seal")]


@dataclass(frozen=True)
class Flow:
    certified: bytes
    signed: tuple[bytes, ...]  # after each signer
    sealed: bytes
    requests: dict[str, int]  # by the certomancer side, for the seal alone


@pytest.fixture(scope="module")
def services(test_pki: TestPki) -> Iterator[TrustServices]:
    trust = TrustServices(
        [test_pki.root_der], TimestampAuthority(test_pki.tsa_url, timeout_seconds=TIMEOUT)
    )
    yield trust
    trust.close()


@pytest.fixture(scope="module")
def flow(
    contract_pdf: bytes,
    test_pki: TestPki,
    pki_seal_key: SealKey,
    pki_signer_keys: tuple[SealKey, ...],
    services: TrustServices,
) -> Flow:
    now = datetime.now(PARIS)
    certified = certify_pdf(
        contract_pdf,
        pki_seal_key,
        FIELDS,
        SignSpec("certification", "Paraphe", now, reason="Certification du document"),
        services=services,
    )
    pdf, signed = certified, []
    for index, (key, name) in enumerate(zip(pki_signer_keys, SIGNER_NAMES, strict=True)):
        spec = SignSpec(f"signer-{index + 1}", name, now, reason="Bon pour accord")
        pdf = sign_pdf(pdf, key, spec, services=services)
        signed.append(pdf)
    test_pki.server.reset_counts()
    sealed = seal_pdf(pdf, pki_seal_key, SignSpec("seal", "Paraphe", now), services)
    return Flow(certified, tuple(signed), sealed, dict(test_pki.server.request_counts()))


def test_every_signature_intact_valid_and_at_most_form_filling(
    flow: Flow, test_pki: TestPki
) -> None:
    report = verify_pdf(flow.sealed, [test_pki.root_der])

    signatures = [s for s in report.signatures if s.kind is SignatureKind.SIGNATURE]
    timestamps = [s for s in report.signatures if s.kind is SignatureKind.DOCUMENT_TIMESTAMP]
    assert [s.field_name for s in signatures] == [
        "certification",
        "signer-1",
        "signer-2",
        "signer-3",
        "seal",
    ]
    assert len(timestamps) == 1
    assert report.all_ok, [s.problem for s in report.signatures]
    for sig in signatures:
        assert sig.intact and sig.valid and sig.trusted
        assert sig.docmdp_ok is not False
        assert sig.timestamped
        assert sig.modification_level in {
            None,
            ModificationLevel.NONE,
            ModificationLevel.LTA_UPDATES,
            ModificationLevel.FORM_FILLING,
        }
    assert signatures[-1].pades_level is PadesLevel.B_LTA
    assert [s.signer_common_name for s in signatures[1:4]] == list(SIGNER_NAMES)


def test_strict_offline_ades_lta_validation_passes(flow: Flow, test_pki: TestPki) -> None:
    root = asn1_x509.Certificate.load(test_pki.root_der)
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(trust_roots=[root]),
                revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
        )
    )
    reader = PdfFileReader(BytesIO(flow.sealed))
    signatures = reader.embedded_regular_signatures
    assert len(signatures) == 5
    for sig in signatures:
        result = asyncio.run(ades_lta_validation(sig, spec))
        assert result.ades_subindic.status is AdESStatus.PASSED, (
            sig.field_name,
            result.ades_subindic,
        )


def test_pdfsig_every_signature_valid_and_the_last_covers_the_file(
    flow: Flow, pdfsig: Callable[[bytes], list[str]]
) -> None:
    blocks = pdfsig(flow.sealed)

    # pdfsig lists fields in form order; it cannot verify document timestamps
    # (poppler 22) but prints their byte ranges.
    signatures = [b for b in blocks if "ETSI.CAdES.detached" in b]
    timestamps = [b for b in blocks if "ETSI.CAdES.detached" not in b]
    assert len(signatures) == 5 and len(timestamps) == 1
    for block in signatures:
        assert "Signature Validation: Signature is Valid." in block, block
    ranges = [int(n) for n in re.findall(r"\d+", _ranges_line(timestamps[0]))]
    assert ranges[-1] == len(flow.sealed)  # the last revision covers the whole file
    assert max(int(re.findall(r"\d+", _ranges_line(b))[-1]) for b in signatures) < ranges[-1]


def _ranges_line(block: str) -> str:
    return next(line for line in block.splitlines() if "Signed Ranges" in line)


def test_seal_costs_one_tsa_request_per_timestamp(flow: Flow) -> None:
    # The seal's signature timestamp and the document timestamp: no extra
    # request to learn the TSA's certificate or the token size (the pooled
    # timestamper kept an earlier token). Revocation data, fetched once per
    # certificate (three signers; the seal, which also made the certification):
    # its OCSP response and the root's CRL (for the intermediate CA and the TSA).
    assert flow.requests == {"tsa": 2, "ocsp": 4, "crls": 4}


def test_revocation_data_is_reused_for_the_next_document(
    flow: Flow, test_pki: TestPki, pki_seal_key: SealKey, services: TrustServices
) -> None:
    test_pki.server.reset_counts()
    services.pool.reset_counts()
    resealed = seal_pdf(
        flow.signed[-1], pki_seal_key, SignSpec("seal", "Paraphe", datetime.now(PARIS)), services
    )

    assert test_pki.server.request_counts() == {"tsa": 2}
    assert services.pool.requests_total() == 2
    assert verify_pdf(resealed, [test_pki.root_der]).all_ok


def test_drawing_on_a_page_after_certification_is_an_illegal_modification(
    flow: Flow, test_pki: TestPki
) -> None:
    drawn = drawn_after_signing(flow.signed[0], 0, b"q 1 0 0 RG 10 10 m 500 500 l S Q")

    report = verify_pdf(drawn, [test_pki.root_der])

    first = report.signatures[0]
    assert first.field_name == "certification"
    assert first.intact and first.valid
    assert first.modification_level is ModificationLevel.OTHER or first.docmdp_ok is False
    assert not first.ok
    assert not report.all_ok


def test_tsa_down_fails_closed_and_a_retry_succeeds(
    contract_pdf: bytes, test_pki: TestPki, pki_signer_keys: tuple[SealKey, ...]
) -> None:
    now = datetime.now(PARIS)
    prepared = add_signature_fields(contract_pdf, [FIELDS[0]])
    spec = SignSpec("signer-1", SIGNER_NAMES[0], now)
    services = TrustServices(
        [test_pki.root_der], TimestampAuthority(test_pki.tsa_url, timeout_seconds=TIMEOUT)
    )
    try:
        test_pki.server.stop()
        with pytest.raises(TimestampError, match=r"timestamp authority http://127\.0\.0\.1:\d+/"):
            sign_pdf(prepared, pki_signer_keys[0], spec, services=services)
        test_pki.server.start()
        signed = sign_pdf(prepared, pki_signer_keys[0], spec, services=services)
    finally:
        test_pki.server.start()
        services.close()

    (report,) = verify_pdf(signed, [test_pki.root_der]).signatures
    assert report.ok and report.timestamped
    assert report.signing_time_source is SigningTimeSource.TIMESTAMP


def test_seal_with_tsa_down_fails_closed(
    flow: Flow, test_pki: TestPki, pki_seal_key: SealKey
) -> None:
    now = datetime.now(PARIS)
    closed = f"http://127.0.0.1:{free_port()}/paraphe/tsa/tsa"
    services = TrustServices([test_pki.root_der], TimestampAuthority(closed, timeout_seconds=3))
    try:
        with pytest.raises(TimestampError, match=r"timestamp authority .* failed"):
            seal_pdf(flow.signed[-1], pki_seal_key, SignSpec("seal", "Paraphe", now), services)
    finally:
        services.close()


def test_seal_without_usable_validation_data_fails_closed(
    flow: Flow, test_pki: TestPki, pki_seal_key: SealKey, dev_pki: DevPki
) -> None:
    # A trust root the signers' chains do not lead to: their validation data
    # cannot be established, and nothing is written.
    services = TrustServices(
        [dev_pki.root_cert_pem], TimestampAuthority(test_pki.tsa_url, timeout_seconds=TIMEOUT)
    )
    try:
        with pytest.raises(ValidationDataError, match="signature 'certification'"):
            seal_pdf(
                flow.signed[-1],
                pki_seal_key,
                SignSpec("seal", "Paraphe", datetime.now(PARIS)),
                services,
            )
    finally:
        services.close()
