"""The certomancer test PKI: served over HTTP, issues what the PAdES tests need."""

from __future__ import annotations

import urllib.request

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from signing import SealKey
from tests.pki.fixtures import TestPki


def test_pki_serves_crl_and_the_seal_has_non_repudiation(
    test_pki: TestPki, pki_seal_key: SealKey
) -> None:
    with urllib.request.urlopen(f"{test_pki.server.url}/paraphe/crls/interm/latest.crl") as reply:
        crl = x509.load_der_x509_crl(reply.read())
    assert "Intermediate" in crl.issuer.rfc4514_string()
    usage = pki_seal_key.certificate.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE)
    assert isinstance(usage.value, x509.KeyUsage)
    assert usage.value.content_commitment  # nonRepudiation
    assert pki_seal_key.subject_common_name == "Paraphe Test Seal"
    assert len(pki_seal_key.chain) == 2
    assert test_pki.server.request_counts()["crls"] >= 1
