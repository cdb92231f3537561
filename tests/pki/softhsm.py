"""pytest plugin: a real PKCS#11 token (SoftHSM2) holding the test PKI's seal key.

The token lives in the session's temporary directory (SOFTHSM2_CONF points
at a config made here); the key and certificates come from the certomancer
test PKI and are imported with python-pkcs11. TEST-ONLY PINs.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

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


def create_token(
    directory: Path,
    key: ec.EllipticCurvePrivateKey,
    certificates: Sequence[tuple[str, bytes]],
    *,
    token_label: str = TOKEN_LABEL,
    user_pin: str = USER_PIN,
) -> Path:
    """A SoftHSM2 token in ``directory`` holding ``key`` (a P-256 key, labelled like the first
    certificate) and ``certificates`` (label, DER; the first is the key's). Returns the
    SoftHSM2 configuration file; SOFTHSM2_CONF must point at it before the module is loaded.
    Shared by the pytest fixture and bench/sign.py --key pkcs11."""
    import pkcs11
    from pkcs11 import Attribute, KeyType, ObjectClass
    from pkcs11.util.ec import encode_named_curve_parameters
    from pkcs11.util.x509 import decode_x509_certificate

    (directory / "tokens").mkdir(parents=True)
    config = directory / "softhsm2.conf"
    config.write_text(
        f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\n"
    )
    environment = {**os.environ, "SOFTHSM2_CONF": str(config)}
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            token_label,
            "--pin",
            user_pin,
            "--so-pin",
            SO_PIN,
        ],
        check=True,
        capture_output=True,
        env=environment,
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(config)
    try:
        token = pkcs11.lib(SOFTHSM_MODULE).get_token(token_label=token_label)
        with token.open(rw=True, user_pin=user_pin) as session:
            key_label = certificates[0][0]
            session.create_object(
                {
                    Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                    Attribute.KEY_TYPE: KeyType.EC,
                    Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1"),
                    Attribute.VALUE: key.private_numbers().private_value.to_bytes(32, "big"),
                    Attribute.LABEL: key_label,
                    Attribute.ID: b"\x01",
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: True,
                    Attribute.SENSITIVE: True,
                    Attribute.SIGN: True,
                }
            )
            for label, der in certificates:
                attributes = decode_x509_certificate(der)
                attributes.update({Attribute.LABEL: label, Attribute.TOKEN: True})
                if label == key_label:
                    attributes[Attribute.ID] = b"\x01"
                session.create_object(attributes)
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous
    return config


@pytest.fixture(scope="session")
def softhsm_token(
    test_pki: TestPki, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SoftHsmToken]:
    key = serialization.load_pem_private_key(
        (test_pki.server.key_root / "keys" / "seal.key.pem").read_bytes(), password=None
    )
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    labels = ((SEAL_LABEL, "seal"), *zip(CHAIN_LABELS, ("interm", "root"), strict=True))
    config = create_token(
        tmp_path_factory.mktemp("softhsm"),
        key,
        [(label, test_pki.server.cert_der(name)) for label, name in labels],
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(config)
    try:
        yield SoftHsmToken(
            SOFTHSM_MODULE, TOKEN_LABEL, USER_PIN, SEAL_LABEL, SEAL_LABEL, CHAIN_LABELS
        )
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous
