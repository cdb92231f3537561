"""pytest plugin: a real PKCS#11 token (SoftHSM2) holding the test PKI's seal key.

The token lives in the session's temporary directory (SOFTHSM2_CONF points
at a config made here); the key and certificates come from the certomancer
test PKI and are imported with python-pkcs11. TEST-ONLY PINs.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.pki.fixtures import TestPki

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_LABEL = "paraphe-test"
USER_PIN = "1234"
SO_PIN = "12345678"
SEAL_LABEL = "paraphe-seal"
CHAIN_LABELS = ("paraphe-interm", "paraphe-root")


@dataclass(frozen=True)
class SoftHsmToken:
    module_path: str
    token_label: str
    user_pin: str
    key_label: str
    cert_label: str
    chain_labels: tuple[str, ...]


@pytest.fixture(scope="session")
def softhsm_token(
    test_pki: TestPki, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SoftHsmToken]:
    import pkcs11
    from pkcs11 import Attribute, KeyType, ObjectClass
    from pkcs11.util.ec import encode_named_curve_parameters
    from pkcs11.util.x509 import decode_x509_certificate

    directory = tmp_path_factory.mktemp("softhsm")
    (directory / "tokens").mkdir()
    config = directory / "softhsm2.conf"
    config.write_text(
        f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(config)
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            TOKEN_LABEL,
            "--pin",
            USER_PIN,
            "--so-pin",
            SO_PIN,
        ],
        check=True,
        capture_output=True,
    )
    key = serialization.load_pem_private_key(
        (test_pki.server.key_root / "keys" / "seal.key.pem").read_bytes(), password=None
    )
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    token = pkcs11.lib(SOFTHSM_MODULE).get_token(token_label=TOKEN_LABEL)
    with token.open(rw=True, user_pin=USER_PIN) as session:
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                Attribute.KEY_TYPE: KeyType.EC,
                Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1"),
                Attribute.VALUE: key.private_numbers().private_value.to_bytes(32, "big"),
                Attribute.LABEL: SEAL_LABEL,
                Attribute.ID: b"\x01",
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.SENSITIVE: True,
                Attribute.SIGN: True,
            }
        )
        labels = ((SEAL_LABEL, "seal"), *zip(CHAIN_LABELS, ("interm", "root"), strict=True))
        for label, cert_label in labels:
            attributes = decode_x509_certificate(test_pki.server.cert_der(cert_label))
            attributes.update({Attribute.LABEL: label, Attribute.TOKEN: True})
            if label == SEAL_LABEL:
                attributes[Attribute.ID] = b"\x01"
            session.create_object(attributes)
    try:
        yield SoftHsmToken(
            SOFTHSM_MODULE, TOKEN_LABEL, USER_PIN, SEAL_LABEL, SEAL_LABEL, CHAIN_LABELS
        )
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous
