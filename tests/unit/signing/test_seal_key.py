"""Loading the seal key, checking its validity, and signing without re-parsing it."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.signers import pdf_cms

from signing import (
    CertificateExpiredError,
    CertificateNotYetValidError,
    DevPki,
    KeyLoadError,
    SealKey,
    SignSpec,
    ensure_dev_pki,
    load_pkcs12,
    sign_pdf,
    verify_pdf,
)


def test_loads_subject_and_expiry(dev_pki: DevPki, seal_key: SealKey) -> None:
    assert seal_key.subject_common_name == "Cachet Paraphe (développement)"
    assert "O=Paraphe (développement)" in seal_key.subject
    assert seal_key.not_after == dev_pki.seal_not_after
    assert len(seal_key.chain) == 1  # the dev root travels with the seal


def test_passphrase_may_be_given_as_text(dev_pki: DevPki) -> None:
    key = load_pkcs12(dev_pki.pkcs12_path, dev_pki.passphrase.decode())
    assert key.subject_common_name == "Cachet Paraphe (développement)"


def test_wrong_passphrase_raises_key_load_error(dev_pki: DevPki) -> None:
    with pytest.raises(KeyLoadError, match="wrong passphrase"):
        load_pkcs12(dev_pki.pkcs12_path, b"not the passphrase")


def test_missing_file_raises_key_load_error(tmp_path: Path) -> None:
    with pytest.raises(KeyLoadError, match="cannot read"):
        load_pkcs12(tmp_path / "absent.p12", b"x")


def test_pkcs12_without_key_raises_key_load_error(tmp_path: Path, seal_key: SealKey) -> None:
    certs_only = tmp_path / "certs-only.p12"
    certs_only.write_bytes(
        serialization.pkcs12.serialize_key_and_certificates(
            name=None,
            key=None,
            cert=None,
            cas=[seal_key.certificate],
            encryption_algorithm=serialization.NoEncryption(),
        )
    )
    with pytest.raises(KeyLoadError, match="both a private key and its certificate"):
        load_pkcs12(certs_only, None)


def test_validity_reports_days_left_and_warns_near_expiry(seal_key: SealKey) -> None:
    far = seal_key.check_validity(datetime.now(UTC))
    assert not far.expires_soon
    assert far.days_left > 1000

    near = seal_key.check_validity(seal_key.not_after - timedelta(days=10, hours=1))
    assert near.expires_soon
    assert near.days_left == 10


def test_expired_certificate_raises(tmp_path: Path) -> None:
    pki = ensure_dev_pki(tmp_path / "old", now=datetime.now(UTC) - timedelta(days=4 * 365))
    key = load_pkcs12(pki.pkcs12_path, pki.passphrase)

    with pytest.raises(CertificateExpiredError) as raised:
        key.check_validity(datetime.now(UTC))
    assert raised.value.not_after == key.not_after


def test_not_yet_valid_certificate_raises(seal_key: SealKey) -> None:
    with pytest.raises(CertificateNotYetValidError):
        seal_key.check_validity(seal_key.not_before - timedelta(days=1))


def test_sign_pdf_refuses_an_expired_seal(
    tmp_path: Path, prepared_pdf: bytes, now: datetime
) -> None:
    pki = ensure_dev_pki(tmp_path / "old", now=datetime.now(UTC) - timedelta(days=4 * 365))
    key = load_pkcs12(pki.pkcs12_path, pki.passphrase)

    with pytest.raises(CertificateExpiredError):
        sign_pdf(prepared_pdf, key, SignSpec("seal", "Paraphe", now))


def test_signing_never_reparses_the_private_key(
    monkeypatch: pytest.MonkeyPatch,
    dev_pki: DevPki,
    seal_key: SealKey,
    prepared_pdf: bytes,
    now: datetime,
) -> None:
    # Stock pyHanko's SimpleSigner calls this on every signature; ours must not.
    def fail(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("private key parsed again at signing time")

    # pdf_cms calls it through the cryptography module it imports: patch it there.
    monkeypatch.setattr(serialization, "load_der_private_key", fail)
    signed = sign_pdf(prepared_pdf, seal_key, SignSpec("seal", "Paraphe", now))

    assert verify_pdf(signed, [dev_pki.root_cert_pem]).all_ok


def test_signing_certificate_attribute_is_built_once_and_is_pyhankos_own(
    seal_key: SealKey, signing_certificate_builds: list[object]
) -> None:
    # The session's key was loaded (and built its attribute) before the count started.
    signer = seal_key.pyhanko_signer()
    digest = hashlib.sha256(b"document").digest()

    async def signed_attributes() -> tuple[bytes, bytes]:
        ours = await signer.signed_attrs(
            digest, "sha256", attr_settings=pdf_cms.PdfCMSSignedAttributes(), use_pades=True
        )
        # What stock pyHanko builds for the same signer and document.
        stock_providers = pdf_cms.Signer._signed_attr_providers(
            signer,
            data_digest=digest,
            digest_algorithm="sha256",
            attr_settings=pdf_cms.PdfCMSSignedAttributes(),
            use_cades=True,
        )
        stock = await pdf_cms.format_signed_attributes(digest, list(stock_providers))
        return ours.dump(), stock.dump()

    ours, stock = asyncio.run(signed_attributes())

    assert ours == stock
    assert len(signing_certificate_builds) == 1  # the stock path's call, none from ours


def test_a_fresh_key_builds_signers_from_many_threads_at_once(dev_pki: DevPki) -> None:
    """One loaded key serves every thread of a server process. asn1crypto parses lazily and
    not thread-safely: before the key was parsed whole at load time, 20 threads building a
    signer at once (a double-click on "send") could fail with a half-parsed certificate."""
    import sys
    import threading

    failures: list[BaseException] = []
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show up
    try:
        for _ in range(15):
            key = load_pkcs12(dev_pki.pkcs12_path, dev_pki.passphrase)
            barrier = threading.Barrier(20)

            def build(key: SealKey = key, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                try:
                    key.pyhanko_signer()
                except BaseException as exc:  # collected, reported below
                    failures.append(exc)

            threads = [threading.Thread(target=build) for _ in range(20)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        sys.setswitchinterval(switch)
    assert not failures, failures[:3]
