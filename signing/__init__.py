"""PAdES signing for Paraphe: create signature fields, sign, verify. Works on PDF bytes.

The only package that imports pyHanko; knows nothing of Flask, the database
or storage. Typical flow::

    key = load_pkcs12(path, passphrase)           # once per process
    pdf = add_signature_fields(pdf, [SignatureFieldSpec("signer-1", SignatureBox(...)),
                                     SignatureFieldSpec("seal")])
    pdf = sign_pdf(pdf, key, SignSpec("signer-1", "Zoë Müller", now, reason="..."))
    report = verify_pdf(pdf, trust_roots=[root_pem])
"""

from signing import third_party_warnings  # noqa: F401  (first: before pyHanko is imported)
from signing.appearance import BUNDLED_FONT, AppearanceStyle
from signing.cms import DetachedSealReport, seal_detached, verify_detached
from signing.devpki import DevPki, ensure_dev_pki
from signing.errors import (
    CertificateExpiredError,
    CertificateNotYetValidError,
    CertificateValidityError,
    InvalidPdfError,
    InvalidSpecError,
    KeyLoadError,
    SignatureFieldError,
    SigningError,
    TimestampError,
    TrustRootError,
    ValidationDataError,
)
from signing.fields import SignatureBox, SignatureFieldSpec, add_signature_fields
from signing.keys import EXPIRY_WARNING, KeyValidity, SealKey, SigningKey, load_pkcs12
from signing.network import HttpPool, TrustServices
from signing.pades import SignSpec, certify_pdf, platform_seal, seal_pdf, sign_pdf
from signing.pkcs11 import Pkcs11Key, load_pkcs11
from signing.timestamps import TimestampAuthority
from signing.tokens import TimestampTokenReport, verify_timestamp_token
from signing.verify import (
    Coverage,
    ModificationLevel,
    PadesLevel,
    SignatureKind,
    SignatureReport,
    SigningTimeSource,
    VerificationReport,
    verify_pdf,
)

__all__ = [
    "BUNDLED_FONT",
    "EXPIRY_WARNING",
    "AppearanceStyle",
    "CertificateExpiredError",
    "CertificateNotYetValidError",
    "CertificateValidityError",
    "Coverage",
    "DetachedSealReport",
    "DevPki",
    "HttpPool",
    "InvalidPdfError",
    "InvalidSpecError",
    "KeyLoadError",
    "KeyValidity",
    "ModificationLevel",
    "PadesLevel",
    "Pkcs11Key",
    "SealKey",
    "SignSpec",
    "SignatureBox",
    "SignatureFieldError",
    "SignatureFieldSpec",
    "SignatureKind",
    "SignatureReport",
    "SigningError",
    "SigningKey",
    "SigningTimeSource",
    "TimestampAuthority",
    "TimestampError",
    "TimestampTokenReport",
    "TrustRootError",
    "TrustServices",
    "ValidationDataError",
    "VerificationReport",
    "add_signature_fields",
    "certify_pdf",
    "ensure_dev_pki",
    "load_pkcs11",
    "load_pkcs12",
    "platform_seal",
    "seal_detached",
    "seal_pdf",
    "sign_pdf",
    "verify_detached",
    "verify_pdf",
    "verify_timestamp_token",
]
