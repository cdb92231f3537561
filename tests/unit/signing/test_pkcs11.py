"""A seal key in a real PKCS#11 token (SoftHSM2): loads once, signs, validates."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.pkcs11 import PKCS11Signer

from app.config import ConfigError, Settings
from app.pki import load_seal_key, load_signing_key
from signing import (
    KeyLoadError,
    Pkcs11Key,
    SignatureFieldSpec,
    SignSpec,
    add_signature_fields,
    load_pkcs11,
    sign_pdf,
    verify_pdf,
)
from tests.pki.fixtures import TestPki
from tests.pki.softhsm import SoftHsmToken
from tests.unit.signing.conftest import PARIS


def _token_key(token: SoftHsmToken, key_label: str | None = None) -> Pkcs11Key:
    """The seal key of the test token, with its CA chain."""
    return load_pkcs11(
        token.module_path,
        token.token_label,
        token.user_pin,
        cert_label=token.cert_label,
        key_label=key_label,
        chain_labels=token.chain_labels,
    )


def test_a_pkcs11_sealed_pdf_validates(
    softhsm_token: SoftHsmToken, test_pki: TestPki, contract_pdf: bytes
) -> None:
    key = _token_key(softhsm_token, key_label=softhsm_token.key_label)
    try:
        assert key.subject_common_name == "Paraphe Test Seal"
        assert len(key.chain) == 2
        pdf = add_signature_fields(contract_pdf, [SignatureFieldSpec("seal")])
        now = datetime.now(PARIS)
        signed = sign_pdf(pdf, key, SignSpec("seal", "Paraphe", now))
        # The same session signs again: the key is loaded once per process.
        again = sign_pdf(pdf, key, SignSpec("seal", "Paraphe", now))
    finally:
        key.close()

    for document in (signed, again):
        (report,) = verify_pdf(document, [test_pki.root_der]).signatures
        assert report.ok, report.problem
        assert report.signer_common_name == "Paraphe Test Seal"


def test_the_token_signer_finds_its_objects_and_builds_its_attribute_once_per_key(
    monkeypatch: pytest.MonkeyPatch,
    softhsm_token: SoftHsmToken,
    test_pki: TestPki,
    contract_pdf: bytes,
    signing_certificate_builds: list[object],
) -> None:
    # Stock pyHanko's PKCS11Signer searches the token for the key and each chain certificate
    # and rebuilds the signing-certificate-v2 attribute (~12 ms) at every signature; the
    # token key does all three once, at load time.
    key = _token_key(softhsm_token)  # found by its certificate's label
    try:
        assert len(signing_certificate_builds) == 1

        def fail(*_args: object, **_kwargs: object) -> None:
            raise AssertionError("the token searched again at signing time")

        monkeypatch.setattr(PKCS11Signer, "_pull_signing_key_handle", fail)
        monkeypatch.setattr(PKCS11Signer, "_pull_single_cert", fail)
        pdf = add_signature_fields(contract_pdf, [SignatureFieldSpec("seal")])
        now = datetime.now(PARIS)
        signed = [sign_pdf(pdf, key, SignSpec("seal", "Paraphe", now)) for _ in range(2)]
    finally:
        key.close()
    assert len(signing_certificate_builds) == 1
    for document in signed:
        (report,) = verify_pdf(document, [test_pki.root_der]).signatures
        assert report.ok, report.problem
        # the CMS carries the whole chain, read from the token once
        reader = PdfFileReader(BytesIO(document))
        (embedded,) = reader.embedded_signatures
        names = {
            c.chosen.subject.native["common_name"] for c in embedded.signed_data["certificates"]
        }
        assert names == {
            "Paraphe Test Seal",
            "Paraphe Test Intermediate CA",
            "Paraphe Test Root CA",
        }


def test_wrong_pin_or_label_is_a_key_load_error(softhsm_token: SoftHsmToken) -> None:
    with pytest.raises(KeyLoadError, match="cannot open PKCS#11 token"):
        load_pkcs11(softhsm_token.module_path, softhsm_token.token_label, "0000", "x")
    with pytest.raises(KeyLoadError, match="certificate labelled 'missing'"):
        load_pkcs11(
            softhsm_token.module_path,
            softhsm_token.token_label,
            softhsm_token.user_pin,
            cert_label="missing",
        )


def test_the_app_chooses_the_pkcs11_token_when_configured(
    softhsm_token: SoftHsmToken, tmp_path: Path, contract_pdf: bytes, test_pki: TestPki
) -> None:
    settings = Settings.from_env(
        {
            "PARAPHE_INSTANCE_DIR": str(tmp_path),
            "PARAPHE_SEAL_PKCS11_MODULE": softhsm_token.module_path,
            "PARAPHE_SEAL_PKCS11_TOKEN": softhsm_token.token_label,
            "PARAPHE_SEAL_PKCS11_PIN": softhsm_token.user_pin,
            "PARAPHE_SEAL_PKCS11_KEY_LABEL": softhsm_token.key_label,
            "PARAPHE_SEAL_PKCS11_CERT_LABEL": softhsm_token.cert_label,
            "PARAPHE_SEAL_PKCS11_CHAIN_LABELS": ",".join(softhsm_token.chain_labels),
        }
    )
    assert softhsm_token.user_pin not in repr(settings)

    key = load_signing_key(settings)
    assert isinstance(key, Pkcs11Key)
    try:
        pdf = add_signature_fields(contract_pdf, [SignatureFieldSpec("seal")])
        signed = sign_pdf(pdf, key, SignSpec("seal", "Paraphe", datetime.now(PARIS)))
    finally:
        key.close()
    assert verify_pdf(signed, [test_pki.root_der]).all_ok
    with pytest.raises(RuntimeError, match="PKCS#11"):
        load_seal_key(settings)


def test_an_incomplete_pkcs11_configuration_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PARAPHE_SEAL_PKCS11_PIN"):
        Settings.from_env(
            {
                "PARAPHE_INSTANCE_DIR": str(tmp_path),
                "PARAPHE_SEAL_PKCS11_MODULE": "/usr/lib/softhsm/libsofthsm2.so",
                "PARAPHE_SEAL_PKCS11_TOKEN": "t",
                "PARAPHE_SEAL_PKCS11_CERT_LABEL": "c",
            }
        )
