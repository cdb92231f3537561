"""Signing keys: what :func:`signing.sign_pdf` signs with.

A key is loaded once per process (at start-up) and reused for every document.
Stock pyHanko's ``SimpleSigner`` re-parses the DER private key inside every
raw signature, which costs more than the rest of a B-B signature together; a
:class:`SealKey` parses it once and hands pyHanko the parsed object.

:class:`SigningKey` is the interface :func:`signing.sign_pdf` depends on, so a
PKCS#11 (HSM) key can be added as another implementation without touching the
signing code.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.sign.attributes import CMSAttributeProvider, SigningCertificateV2Provider
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.signers import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash, process_pss_params

from signing.errors import (
    CertificateExpiredError,
    CertificateNotYetValidError,
    KeyLoadError,
    SigningError,
)

__all__ = [
    "EXPIRY_WARNING",
    "KeyValidity",
    "SealKey",
    "SigningKey",
    "check_certificate_validity",
    "common_name",
    "load_pkcs12",
]

EXPIRY_WARNING = timedelta(days=30)
"""How long before expiry :meth:`SigningKey.check_validity` starts warning."""

_PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class KeyValidity:
    """Outcome of a validity check on a certificate that can still sign."""

    not_after: datetime
    days_left: int
    expires_soon: bool


class SigningKey(Protocol):
    """A certificate and a private key able to sign, wherever the key lives."""

    @property
    def certificate(self) -> x509.Certificate: ...

    @property
    def subject_common_name(self) -> str: ...

    @property
    def not_after(self) -> datetime: ...

    def check_validity(self, now: datetime, warn_within: timedelta = ...) -> KeyValidity: ...

    def pyhanko_signer(self) -> Signer:
        """A fresh pyHanko signer; it is cheap to build and never shared between calls."""
        ...


class CertificateFacts:
    """What every key knows from its certificate (PKCS#12 and PKCS#11 keys alike)."""

    certificate: x509.Certificate

    @property
    def subject(self) -> str:
        """The certificate subject, RFC 4514 string."""
        return self.certificate.subject.rfc4514_string()

    @property
    def subject_common_name(self) -> str:
        return common_name(self.certificate)

    @property
    def not_before(self) -> datetime:
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        return self.certificate.not_valid_after_utc

    def check_validity(self, now: datetime, warn_within: timedelta = EXPIRY_WARNING) -> KeyValidity:
        """Raise if the certificate cannot sign at ``now``; say whether expiry is near."""
        return check_certificate_validity(self.certificate, now, warn_within)


@dataclass(frozen=True, eq=False)
class SealKey(CertificateFacts):
    """A private key held in memory (loaded from PKCS#12) with its certificate chain."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    _private_key: _PrivateKey = field(repr=False)
    # asn1crypto copies for pyHanko, converted once at load time.
    _asn1_certificate: asn1_x509.Certificate = field(repr=False)
    _asn1_chain: tuple[asn1_x509.Certificate, ...] = field(repr=False)
    # The signing-certificate-v2 signed attribute (DER), the same in every
    # signature: see FixedSigningCertificateSigner.
    _signing_certificate_attribute: bytes = field(repr=False)

    @classmethod
    def from_objects(
        cls,
        private_key: _PrivateKey,
        certificate: x509.Certificate,
        chain: tuple[x509.Certificate, ...] = (),
    ) -> SealKey:
        """Build a key from already-parsed objects (checks that key and certificate match)."""
        if not isinstance(private_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise KeyLoadError(
                f"unsupported key type {type(private_key).__name__}: use ECDSA P-256 or RSA-3072"
            )
        if _public_der(private_key.public_key()) != _public_der(certificate.public_key()):
            raise KeyLoadError("the private key does not match the certificate")
        asn1_certificate = _to_asn1(certificate)
        return cls(
            certificate=certificate,
            chain=chain,
            _private_key=private_key,
            _asn1_certificate=asn1_certificate,
            _asn1_chain=tuple(_to_asn1(c) for c in chain),
            _signing_certificate_attribute=signing_certificate_attribute(asn1_certificate),
        )

    def pyhanko_signer(self) -> Signer:
        registry = SimpleCertificateStore()  # type: ignore[no-untyped-call]
        for cert in (self._asn1_certificate, *self._asn1_chain):
            registry.register(cert)
        return _LoadedKeySigner(
            self._private_key,
            self._asn1_certificate,
            registry,
            self._signing_certificate_attribute,
        )


def load_pkcs12(path: Path, passphrase: bytes | str | None) -> SealKey:
    """Load a PKCS#12 file once; keep the returned key for the life of the process."""
    if isinstance(passphrase, str):
        passphrase = passphrase.encode("utf-8")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyLoadError(f"cannot read PKCS#12 file {path}: {exc.strerror}") from exc
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, passphrase)
    except ValueError as exc:
        # cryptography does not distinguish a wrong passphrase from a corrupt file.
        raise KeyLoadError(
            f"cannot open PKCS#12 file {path}: wrong passphrase or not a PKCS#12 file"
        ) from exc
    if key is None or cert is None:
        raise KeyLoadError(f"PKCS#12 file {path} must hold both a private key and its certificate")
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise KeyLoadError(
            f"unsupported key type {type(key).__name__} in {path}: use ECDSA P-256 or RSA-3072"
        )
    return SealKey.from_objects(key, cert, tuple(extra))


def check_certificate_validity(
    certificate: x509.Certificate, now: datetime, warn_within: timedelta = EXPIRY_WARNING
) -> KeyValidity:
    """Shared by every :class:`SigningKey` implementation."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    not_before, not_after = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    name = common_name(certificate)
    if now >= not_after:
        raise CertificateExpiredError(
            f"certificate {name!r} expired on {not_after.isoformat()}: renew it before signing",
            not_before=not_before,
            not_after=not_after,
        )
    if now < not_before:
        raise CertificateNotYetValidError(
            f"certificate {name!r} is valid only from {not_before.isoformat()}",
            not_before=not_before,
            not_after=not_after,
        )
    remaining = not_after - now
    return KeyValidity(
        not_after=not_after,
        days_left=math.floor(remaining / timedelta(days=1)),
        expires_soon=remaining < warn_within,
    )


class FixedSigningCertificateSigner(Signer):
    """A pyHanko signer that reuses its key's signing-certificate-v2 attribute.

    pyHanko builds that attribute afresh for every signature from the certificate's parsed
    fields, and asn1crypto then re-encodes that structure field by field, several times
    over while nesting it into the CMS: about 12 ms of every signature, for bytes that
    never change. Parsed from its DER, the same attribute keeps its encoding and costs next
    to nothing. Exactly the value pyHanko computes is used (see
    :func:`signing_certificate_attribute`), built once per key by the key (PKCS#12 or
    PKCS#11) and handed to each signer it makes.
    """

    _signing_certificate_attribute: bytes

    def _signed_attr_providers(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        attr_settings: Any,
        timestamper: Any = None,
        use_cades: bool = False,
        is_pdf_sig: bool = True,
    ) -> Iterator[CMSAttributeProvider]:
        providers = super()._signed_attr_providers(
            data_digest=data_digest,
            digest_algorithm=digest_algorithm,
            attr_settings=attr_settings,
            timestamper=timestamper,
            use_cades=use_cades,
            is_pdf_sig=is_pdf_sig,
        )
        for provider in providers:
            if (
                isinstance(provider, SigningCertificateV2Provider)
                and provider.signing_cert is self.signing_cert
            ):
                yield _FixedAttribute(self._signing_certificate_attribute)
            else:
                yield provider


class _LoadedKeySigner(FixedSigningCertificateSigner):
    """pyHanko signer over an already-parsed ``cryptography`` private key."""

    def __init__(
        self,
        private_key: _PrivateKey,
        signing_cert: asn1_x509.Certificate,
        registry: SimpleCertificateStore,
        signing_certificate_attribute: bytes,
    ) -> None:
        # embed_roots: some validators cannot build a path without the root in
        # the CMS, and the few hundred bytes it costs are accounted for.
        super().__init__(signing_cert=signing_cert, cert_registry=registry, embed_roots=True)
        self._private_key = private_key
        self._signing_certificate_attribute = signing_certificate_attribute

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        try:
            algorithm = mechanism.signature_algo
        except ValueError:
            algorithm = mechanism["algorithm"].native
        key = self._private_key
        if isinstance(key, ec.EllipticCurvePrivateKey) and algorithm == "ecdsa":
            return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        if isinstance(key, rsa.RSAPrivateKey) and algorithm == "rsassa_pkcs1v15":
            return key.sign(data, padding.PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        if isinstance(key, rsa.RSAPrivateKey) and algorithm == "rsassa_pss":
            pss, hash_algorithm = process_pss_params(mechanism["parameters"])
            return key.sign(data, pss, hash_algorithm)
        raise SigningError(f"signature mechanism {algorithm} does not fit this key")


class _FixedAttribute(CMSAttributeProvider):
    """Provides a CMS attribute given as DER (parsed afresh for each signature)."""

    def __init__(self, der: bytes) -> None:
        self._der = der

    async def get_attribute(self, dry_run: bool = False) -> cms.CMSAttribute:
        return cms.CMSAttribute.load(self._der)


def signing_certificate_attribute(certificate: asn1_x509.Certificate) -> bytes:
    """The DER signing-certificate-v2 attribute pyHanko's SigningCertificateV2Provider
    produces for ``certificate``: build it once per key."""
    value = as_signing_certificate_v2(certificate)
    attribute: bytes = simple_cms_attribute("signing_certificate_v2", value).dump()  # type: ignore[no-untyped-call]
    return attribute


def _to_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    """The certificate as asn1crypto parses it, parsed through now.

    asn1crypto parses lazily, on first access, and that first access is not thread-safe: one
    key object is shared by every thread of a server process, and two threads registering it
    at once (two signers, a double-click) raised ``KeyError: No field numbered 1`` from half-
    parsed children. Parsing it whole here, once, leaves threads only reading."""
    parsed = asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
    _ = parsed.native  # parses every child
    for warm in ("sha1", "sha256", "issuer_serial", "key_identifier", "authority_key_identifier"):
        getattr(parsed, warm)
    # what pyHanko's certificate store indexes by, computed (and cached) once
    _ = (parsed.public_key.sha1, parsed.public_key.sha256)
    _ = (parsed.subject.sha256, parsed.issuer.sha256)
    return parsed


def _public_der(public_key: object) -> bytes:
    if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        return b""
    return public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        return certificate.subject.rfc4514_string()
    value = names[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")
