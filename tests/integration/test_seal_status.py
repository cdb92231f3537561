"""`paraphe seal status`: subject, expiry and days left; warns 30 days before, refuses after."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from app.config import Settings
from app.factory import create_app
from app.signatures.seal_commands import STATUS_CANNOT_SIGN, STATUS_EXPIRES_SOON, STATUS_OK


def _pkcs12(path: Path, *, not_after: datetime) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cachet de test Éphémère")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - timedelta(days=400))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal", key, cert, None, serialization.BestAvailableEncryption(b"pw")
        )
    )
    return path


def _status(settings: Settings) -> tuple[int, str]:
    app = create_app(settings)
    try:
        result = app.test_cli_runner().invoke(args=["seal", "status"])
    finally:
        app.extensions["paraphe"].engine.dispose()
    return result.exit_code, result.output


def test_dev_seal_is_valid(settings: Settings) -> None:
    code, output = _status(settings)
    assert code == STATUS_OK, output
    assert "Sujet : " in output and "Valide jusqu'au : " in output
    assert "Jours restants : " in output and "État : valide." in output


def test_warns_within_30_days_and_refuses_when_expired(settings: Settings, tmp_path: Path) -> None:
    soon = _pkcs12(tmp_path / "soon.p12", not_after=datetime.now(UTC) + timedelta(days=10, hours=1))
    code, output = _status(replace(settings, seal_pkcs12_path=soon, seal_pkcs12_passphrase="pw"))
    assert code == STATUS_EXPIRES_SOON, output
    assert "Cachet de test Éphémère" in output
    assert "Jours restants : 10" in output
    assert "ATTENTION : le certificat du cachet expire dans 10 jours" in output

    expired = _pkcs12(tmp_path / "old.p12", not_after=datetime.now(UTC) - timedelta(days=1))
    code, output = _status(replace(settings, seal_pkcs12_path=expired, seal_pkcs12_passphrase="pw"))
    assert code == STATUS_CANNOT_SIGN, output
    assert "ERREUR : le cachet ne peut pas signer" in output and "expired" in output
