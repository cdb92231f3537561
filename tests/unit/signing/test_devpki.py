"""The development PKI: files, permissions, certificate profile, idempotence."""

from __future__ import annotations

import multiprocessing
import stat
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12

from signing import ensure_dev_pki, load_pkcs12


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_creates_the_files_with_restrictive_permissions(tmp_path: Path) -> None:
    pki = ensure_dev_pki(tmp_path / "pki")

    assert _mode(pki.directory) == 0o700
    assert _mode(pki.pkcs12_path) == 0o600
    assert _mode(pki.passphrase_path) == 0o600
    assert _mode(pki.directory / "dev-root-ca.key") == 0o600
    assert _mode(pki.root_cert_path) == 0o644  # public: meant to be installed as an anchor
    assert pki.passphrase_path.read_bytes().strip() == pki.passphrase
    assert len(pki.passphrase) >= 32
    # No temporary file is left behind by the atomic writes.
    assert not [p for p in pki.directory.iterdir() if p.name.endswith(".tmp")]


def test_certificates_follow_the_seal_profile(tmp_path: Path) -> None:
    pki = ensure_dev_pki(tmp_path / "pki", organisation="Exemple SAS")
    key, seal, extra = pkcs12.load_key_and_certificates(
        pki.pkcs12_path.read_bytes(), pki.passphrase
    )
    root = x509.load_pem_x509_certificate(pki.root_cert_pem)

    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert isinstance(key.curve, ec.SECP256R1)
    assert seal is not None
    assert extra == [root]
    seal.verify_directly_issued_by(root)

    usage = seal.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    assert not seal.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert "Exemple SAS" in seal.subject.rfc4514_string()

    seal_years = (seal.not_valid_after_utc - seal.not_valid_before_utc).days / 365.25
    root_years = (root.not_valid_after_utc - root.not_valid_before_utc).days / 365.25
    assert 2.9 < seal_years < 3.1
    assert 9.9 < root_years < 10.1


def test_second_call_reuses_everything(tmp_path: Path) -> None:
    first = ensure_dev_pki(tmp_path / "pki")
    files = {p.name: p.read_bytes() for p in first.directory.iterdir() if p.is_file()}

    second = ensure_dev_pki(tmp_path / "pki")

    assert second == first
    assert {p.name: p.read_bytes() for p in second.directory.iterdir() if p.is_file()} == files


def test_expired_seal_is_reissued_under_the_same_root(tmp_path: Path) -> None:
    four_years_ago = datetime.now(UTC) - timedelta(days=4 * 365)
    old = ensure_dev_pki(tmp_path / "pki", now=four_years_ago)
    root_before = old.root_cert_pem

    renewed = ensure_dev_pki(tmp_path / "pki")

    assert renewed.root_cert_pem == root_before  # users who trusted the root keep trusting
    assert old.seal_not_after < datetime.now(UTC) < renewed.seal_not_after
    key = load_pkcs12(renewed.pkcs12_path, renewed.passphrase)
    key.certificate.verify_directly_issued_by(x509.load_pem_x509_certificate(root_before))


def test_lost_passphrase_regenerates_instead_of_failing(tmp_path: Path) -> None:
    first = ensure_dev_pki(tmp_path / "pki")
    first_root = first.root_cert_pem
    first.passphrase_path.unlink()

    second = ensure_dev_pki(tmp_path / "pki")

    assert second.passphrase != first.passphrase
    assert second.root_cert_pem != first_root
    load_pkcs12(second.pkcs12_path, second.passphrase)


PROCESSES = 4

_Seen = tuple[bytes, bytes, bytes]  # root certificate, passphrase, seal certificate (DER)


def _first_start(directory: Path, start: Barrier, results: multiprocessing.Queue[_Seen]) -> None:
    start.wait()  # every process finds the PKI folder empty at the same moment
    try:
        pki = ensure_dev_pki(directory)
        seal = load_pkcs12(pki.pkcs12_path, pki.passphrase).certificate  # what it signs with
        der = seal.public_bytes(serialization.Encoding.DER)
        results.put((pki.root_cert_pem, pki.passphrase, der))
    except Exception as exc:  # reported to the test rather than lost in a child's stderr
        results.put((b"", repr(exc).encode(), b""))


def test_processes_starting_together_create_one_pki(tmp_path: Path) -> None:
    """A web process and workers starting at once on a fresh PKI folder (shared between
    machines in a staging deployment): one of them creates it, the others use that one."""
    # fork: the children run this module's function without re-importing the test package.
    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(PROCESSES)
    results: multiprocessing.Queue[_Seen] = ctx.Queue()
    children = [
        ctx.Process(target=_first_start, args=(tmp_path / "pki", start, results))
        for _ in range(PROCESSES)
    ]
    for child in children:
        child.start()
    seen = {results.get(timeout=60) for _ in children}
    for child in children:
        child.join(timeout=60)

    assert len(seen) == 1, seen  # one root, one passphrase, one seal for every process
    ((root_pem, passphrase, seal_der),) = seen
    on_disk = ensure_dev_pki(tmp_path / "pki")
    assert (on_disk.root_cert_pem, on_disk.passphrase) == (root_pem, passphrase)
    seal = x509.load_der_x509_certificate(seal_der)
    seal.verify_directly_issued_by(x509.load_pem_x509_certificate(root_pem))
    assert not [p for p in on_disk.directory.iterdir() if p.name.endswith(".tmp")]
