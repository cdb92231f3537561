"""Which seal key the service signs with: a PKCS#11 token or a PKCS#12 file when configured,
else the development PKI. Loaded once per process by `app.runtime.Runtime`."""

from __future__ import annotations

from pathlib import Path

from app.config import Settings
from signing import SealKey, SigningKey, ensure_dev_pki, load_pkcs11, load_pkcs12


def uses_pkcs11(settings: Settings) -> bool:
    return settings.seal_pkcs11_module is not None


def load_signing_key(settings: Settings) -> SigningKey:
    """The configured seal key, wherever it lives (PKCS#11 token first)."""
    if uses_pkcs11(settings):
        assert settings.seal_pkcs11_module is not None  # checked by Settings.from_env
        assert settings.seal_pkcs11_token is not None
        assert settings.seal_pkcs11_pin is not None
        assert settings.seal_pkcs11_cert_label is not None
        return load_pkcs11(
            settings.seal_pkcs11_module,
            settings.seal_pkcs11_token,
            settings.seal_pkcs11_pin,
            cert_label=settings.seal_pkcs11_cert_label,
            key_label=settings.seal_pkcs11_key_label,
            chain_labels=settings.seal_pkcs11_chain_labels,
        )
    return load_seal_key(settings)


def load_seal_key(settings: Settings) -> SealKey:
    """The in-memory seal key (PKCS#12 file or development PKI).

    Refuses when a PKCS#11 token is configured, rather than silently signing
    with another key: use :func:`load_signing_key` then.
    """
    if uses_pkcs11(settings):
        raise RuntimeError(
            "the seal key is configured in a PKCS#11 token: load it with load_signing_key"
        )
    if settings.seal_pkcs12_path is not None:
        return load_pkcs12(settings.seal_pkcs12_path, settings.seal_pkcs12_passphrase)
    pki = ensure_dev_pki(settings.pki_dir)
    return load_pkcs12(pki.pkcs12_path, pki.passphrase)


def trust_roots(settings: Settings) -> list[bytes]:
    """Trust anchors for verification reports: the development root when it is in use, plus
    any PEM files dropped in <instance>/pki/trust/ (e.g. the production seal's CA)."""
    roots: list[bytes] = []
    if settings.seal_pkcs12_path is None and not uses_pkcs11(settings):
        roots.append(ensure_dev_pki(settings.pki_dir).root_cert_pem)
    trust_dir: Path = settings.pki_dir / "trust"
    if trust_dir.is_dir():
        roots.extend(p.read_bytes() for p in sorted(trust_dir.glob("*.pem")))
    return roots
