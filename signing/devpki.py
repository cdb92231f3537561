"""A development PKI: a local root CA and a seal certificate it issues.

Only for development and tests. Production seals come from a qualified trust
service (PKCS#12 or PKCS#11), never from here.

Layout of ``directory`` (created 0700)::

    dev-root-ca.pem       root certificate, 0644: install it as a trust anchor
    dev-root-ca.key       root private key, PKCS#8 encrypted with the passphrase, 0600
    seal.p12              seal key + certificate + root, PKCS#12, 0600
    passphrase            random passphrase protecting both files above, 0600

The passphrase is random per installation rather than a fixed string in the
source: a well-known dev passphrase makes it too easy to ship the dev seal to
production unnoticed, and a random one read from a file exercises the same
code path as production, where the passphrase comes from a secret store. It
protects nothing against someone who can read the directory; the 0700/0600
modes do that.

The root key is kept so that an expired seal (3 years) is re-issued under the
same root (10 years): developers who trusted the root do not have to again.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from signing.errors import KeyLoadError

__all__ = ["DevPki", "ensure_dev_pki"]

ROOT_CERT_FILE = "dev-root-ca.pem"
ROOT_KEY_FILE = "dev-root-ca.key"
SEAL_PKCS12_FILE = "seal.p12"
PASSPHRASE_FILE = "passphrase"  # noqa: S105 - the name of the file, not a secret
_LOCK_FILE = ".lock"

ROOT_VALIDITY = timedelta(days=3652)
SEAL_VALIDITY = timedelta(days=1096)
# Certificates start slightly in the past so that a verifier whose clock lags
# a little behind ours does not see them as "not yet valid".
_BACKDATE = timedelta(minutes=5)


@dataclass(frozen=True)
class DevPki:
    """Where the development PKI lives, and what it contains."""

    directory: Path
    root_cert_path: Path
    pkcs12_path: Path
    passphrase_path: Path
    passphrase: bytes = field(repr=False)
    seal_not_after: datetime
    root_not_after: datetime

    @property
    def root_cert_pem(self) -> bytes:
        """The trust anchor to give to :func:`signing.verify_pdf`."""
        return self.root_cert_path.read_bytes()


def ensure_dev_pki(
    directory: Path,
    organisation: str = "Paraphe (développement)",
    *,
    now: datetime | None = None,
) -> DevPki:
    """Create the development PKI in ``directory``, or reuse the one already there.

    Idempotent: existing files are reused as long as they are readable and the
    certificates are valid at ``now``. An expired seal is re-issued under the
    existing root; a missing or expired root regenerates everything.

    ``now`` (timezone-aware, default: the current time) exists so that tests
    can create certificates that are already expired.
    """
    now = _aware(now) if now is not None else datetime.now(UTC)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _exclusive_lock(directory / _LOCK_FILE):
        passphrase = _read_or_create_passphrase(directory / PASSPHRASE_FILE)
        root = _load_root(directory, passphrase, now)
        if root is None:
            root = _create_root(directory, organisation, passphrase, now)
            seal_cert = None
        else:
            seal_cert = _load_seal_cert(directory / SEAL_PKCS12_FILE, passphrase, root[0], now)
        if seal_cert is None:
            seal_cert = _create_seal(directory, organisation, passphrase, root, now)
        root_cert = root[0]
    return DevPki(
        directory=directory,
        root_cert_path=directory / ROOT_CERT_FILE,
        pkcs12_path=directory / SEAL_PKCS12_FILE,
        passphrase_path=directory / PASSPHRASE_FILE,
        passphrase=passphrase,
        seal_not_after=seal_cert.not_valid_after_utc,
        root_not_after=root_cert.not_valid_after_utc,
    )


_Root = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]


def _read_or_create_passphrase(path: Path) -> bytes:
    if path.exists():
        passphrase = path.read_bytes().strip()
        if passphrase:
            return passphrase
    passphrase = secrets.token_urlsafe(32).encode("ascii")
    _write_atomically(path, passphrase + b"\n", mode=0o600)
    # Files encrypted under a previous passphrase are now unreadable: drop them
    # so that they are regenerated rather than reported as corrupt.
    for name in (ROOT_KEY_FILE, ROOT_CERT_FILE, SEAL_PKCS12_FILE):
        (path.parent / name).unlink(missing_ok=True)
    return passphrase


def _load_root(directory: Path, passphrase: bytes, now: datetime) -> _Root | None:
    cert_path, key_path = directory / ROOT_CERT_FILE, directory / ROOT_KEY_FILE
    if not (cert_path.exists() and key_path.exists()):
        return None
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=passphrase)
    except ValueError as exc:
        raise KeyLoadError(
            f"development PKI in {directory} is unreadable ({exc}); "
            "delete the directory to regenerate it"
        ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not _valid_at(cert, now):
        return None
    return cert, key


def _load_seal_cert(
    path: Path, passphrase: bytes, root_cert: x509.Certificate, now: datetime
) -> x509.Certificate | None:
    if not path.exists():
        return None
    try:
        _key, cert, _extra = pkcs12.load_key_and_certificates(path.read_bytes(), passphrase)
    except ValueError as exc:
        raise KeyLoadError(
            f"development seal {path} is unreadable ({exc}); delete the directory to regenerate it"
        ) from exc
    if cert is None or not _valid_at(cert, now):
        return None
    try:
        cert.verify_directly_issued_by(root_cert)
    except (ValueError, TypeError, InvalidSignature):
        return None  # issued by an older root: reissue under the current one
    return cert


def _create_root(directory: Path, organisation: str, passphrase: bytes, now: datetime) -> _Root:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(f"Autorité racine de développement {organisation}", organisation)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + ROOT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )
    _write_atomically(directory / ROOT_KEY_FILE, key_pem, mode=0o600)
    # Public: meant to be copied into trust stores.
    _write_atomically(
        directory / ROOT_CERT_FILE, cert.public_bytes(serialization.Encoding.PEM), mode=0o644
    )
    return cert, key


def _create_seal(
    directory: Path, organisation: str, passphrase: bytes, root: _Root, now: datetime
) -> x509.Certificate:
    root_cert = root[0]
    key = ec.generate_private_key(ec.SECP256R1())
    not_after = min(now + SEAL_VALIDITY, root_cert.not_valid_after_utc)
    cert = issue_seal_certificate(
        root,
        key.public_key(),
        common_name=f"Cachet {organisation}",
        organisation=organisation,
        now=now,
        not_after=not_after,
    )
    p12 = pkcs12.serialize_key_and_certificates(
        name=b"paraphe-dev-seal",
        key=key,
        cert=cert,
        cas=[root_cert],
        encryption_algorithm=serialization.BestAvailableEncryption(passphrase),
    )
    _write_atomically(directory / SEAL_PKCS12_FILE, p12, mode=0o600)
    return cert


def issue_seal_certificate(
    issuer: _Root,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    *,
    common_name: str,
    organisation: str,
    now: datetime,
    not_after: datetime,
) -> x509.Certificate:
    """A seal (end-entity signing) certificate issued by the development root."""
    root_cert, root_key = issuer
    return (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, organisation))
        .issuer_name(root_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            # nonRepudiation (content_commitment) is what PAdES validators,
            # pyHanko's included, require of a signing certificate by default.
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _valid_at(cert: x509.Certificate, now: datetime) -> bool:
    return cert.not_valid_before_utc <= now < cert.not_valid_after_utc


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return moment


def _write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    # Temp file in the same directory, then rename: readers never see a
    # half-written key, and a crash leaves the previous file intact.
    # mkstemp creates the file 0600, so secrets are never briefly world-readable.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    # Several worker processes may start at once: without the lock two of them
    # could each write a passphrase and a PKCS#12 that do not match.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
