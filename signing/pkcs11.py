"""Seal keys held in a PKCS#11 token (HSM; SoftHSM2 in tests).

:func:`load_pkcs11` opens one logged-in session at start-up and keeps it for
the life of the process, like :func:`signing.load_pkcs12` keeps its parsed
key. The certificates embedded in signatures are named explicitly
(``chain_labels``): pulling every certificate of the token could overflow the
space reserved for the signature.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.config.pkcs11 import TokenCriteria
from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session
from pyhanko.sign.signers import Signer

from signing.errors import KeyLoadError, SigningError
from signing.keys import (
    CertificateFacts,
    FixedSigningCertificateSigner,
    signing_certificate_attribute,
)

__all__ = ["Pkcs11Key", "load_pkcs11"]


@dataclass(frozen=True, eq=False)
class Pkcs11Key(CertificateFacts):
    """A private key that never leaves its token, with its certificate chain."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    key_label: str
    cert_label: str
    chain_labels: tuple[str, ...]
    _session: Any = field(repr=False)
    _asn1_certificate: asn1_x509.Certificate = field(repr=False)
    # Found once at load time and reused by every signature, like a PKCS#12 key's parsed
    # key: the private key's handle (valid as long as the session), the chain read from the
    # token, and the signing-certificate-v2 attribute (DER, see
    # FixedSigningCertificateSigner). pyHanko's PKCS11Signer would otherwise search the
    # token for the key and each chain certificate, and rebuild the attribute (~12 ms of
    # asn1crypto), at every signature.
    _asn1_chain: tuple[asn1_x509.Certificate, ...] = field(repr=False)
    _key_handle: Any = field(repr=False)
    _signing_certificate_attribute: bytes = field(repr=False)
    # A PKCS#11 session must not be used by two threads at once.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def pyhanko_signer(self) -> Signer:
        return _LockedPkcs11Signer(
            self._lock,
            self._key_handle,
            self._signing_certificate_attribute,
            pkcs11_session=self._session,
            key_label=self.key_label,
            signing_cert=self._asn1_certificate,
            ca_chain=self._asn1_chain,
            other_certs_to_pull=(),
            embed_roots=True,
            # Hash in software, sign the digest on the token: SoftHSM 2.6 and
            # many HSMs lack the combined ECDSA-with-SHA-256 mechanism.
            use_raw_mechanism=isinstance(self.certificate.public_key(), ec.EllipticCurvePublicKey),
        )

    def close(self) -> None:
        """Log out and close the session (at process exit)."""
        with self._lock:
            self._session.close()


def load_pkcs11(
    module_path: str,
    token_label: str,
    user_pin: str,
    cert_label: str,
    key_label: str | None = None,
    chain_labels: Sequence[str] = (),
) -> Pkcs11Key:
    """Open the token once and find the key; keep the result for the life of the process.

    ``key_label`` defaults to ``cert_label``; ``chain_labels`` name the CA
    certificates (stored in the token) to embed with the signer's certificate.
    """
    key_label = key_label or cert_label
    try:
        session = open_pkcs11_session(
            module_path, token_criteria=TokenCriteria(label=token_label), user_pin=user_pin
        )
    except Exception as exc:
        raise KeyLoadError(
            f"cannot open PKCS#11 token {token_label!r} with module {module_path}: {exc}"
        ) from exc
    try:
        certificate = _certificate(session, cert_label)
        chain = tuple(_certificate(session, label) for label in chain_labels)
        key_handle = _private_key(session, key_label)
    except KeyLoadError:
        session.close()
        raise
    return Pkcs11Key(
        certificate=x509.load_der_x509_certificate(certificate.dump()),
        chain=tuple(x509.load_der_x509_certificate(c.dump()) for c in chain),
        key_label=key_label,
        cert_label=cert_label,
        chain_labels=tuple(chain_labels),
        _session=session,
        _asn1_certificate=certificate,
        _asn1_chain=chain,
        _key_handle=key_handle,
        _signing_certificate_attribute=signing_certificate_attribute(certificate),
    )


def _certificate(session: Any, label: str) -> asn1_x509.Certificate:
    from pkcs11 import Attribute, ObjectClass

    found = list(
        session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: label})
    )
    if len(found) != 1:
        raise KeyLoadError(
            f"PKCS#11 token: expected one certificate labelled {label!r}, found {len(found)}"
        )
    return asn1_x509.Certificate.load(bytes(found[0][Attribute.VALUE]))


def _private_key(session: Any, label: str) -> Any:
    from pkcs11 import Attribute, ObjectClass

    found = list(
        session.get_objects(
            {
                Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                Attribute.LABEL: label,
                Attribute.SIGN: True,
            }
        )
    )
    if len(found) != 1:
        raise KeyLoadError(
            f"PKCS#11 token: expected one signing private key labelled {label!r}, "
            f"found {len(found)}"
        )
    return found[0]


class _LockedPkcs11Signer(FixedSigningCertificateSigner, PKCS11Signer):
    """pyHanko's PKCS#11 signer over the key's handle, chain and attribute found at load
    time, one signature at a time on the shared session."""

    def __init__(
        self,
        lock: threading.Lock,
        key_handle: Any,
        signing_certificate_attribute: bytes,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._token_lock = lock
        self._signing_certificate_attribute = signing_certificate_attribute
        # The signing certificate and chain are given, nothing is left to pull: mark the
        # objects loaded with the handle found once, so pyHanko does not search the token
        # again (PKCS11Signer._load_objects) before each signature.
        self._key_handle = key_handle
        self._loaded = True

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        from pkcs11.exceptions import PKCS11Error

        with self._token_lock:
            try:
                signature: bytes = await super().async_sign_raw(data, digest_algorithm, dry_run)
            except PKCS11Error as exc:
                raise SigningError(
                    f"the PKCS#11 token refused to sign: {type(exc).__name__} {exc}"
                ) from exc
            return signature
