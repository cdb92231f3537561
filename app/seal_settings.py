"""The platform seal's key and time-stamping authority (PARAPHE_SEAL_PKCS12*,
PARAPHE_SEAL_PKCS11_*, PARAPHE_TSA_URL), checked with the rest of `app.config.Settings` at
start; apart so that config.py stays readable. What they drive is in app/pki.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class SealKeySettings:
    """Where the seal key is: a PKCS#12 file, a PKCS#11 token (HSM), or neither (the
    development PKI); `app.config.Settings` carries each value as its own field."""

    pkcs12_path: Path | None = None
    pkcs12_passphrase: str | None = field(default=None, repr=False)
    tsa_url: str | None = None
    pkcs11_module: str | None = None
    pkcs11_token: str | None = None
    pkcs11_pin: str | None = field(default=None, repr=False)
    pkcs11_key_label: str | None = None
    pkcs11_cert_label: str | None = None
    pkcs11_chain_labels: tuple[str, ...] = ()


def seal_key_settings(env: Mapping[str, str], problems: list[str]) -> SealKeySettings:
    """The seal key and TSA as the environment describes them; each bad value adds its French
    message to `problems` (the caller refuses to start when there is any)."""
    p12 = env.get("PARAPHE_SEAL_PKCS12") or None
    p12_pass = env.get("PARAPHE_SEAL_PKCS12_PASSWORD") or None
    if p12 and not Path(p12).is_file():
        problems.append(f"PARAPHE_SEAL_PKCS12 : fichier introuvable ({p12})")

    pkcs11 = {
        name: env.get(f"PARAPHE_SEAL_PKCS11_{name}") or None
        for name in ("MODULE", "TOKEN", "PIN", "KEY_LABEL", "CERT_LABEL", "CHAIN_LABELS")
    }
    required = ("MODULE", "TOKEN", "PIN", "CERT_LABEL")
    if any(pkcs11.values()) and not all(pkcs11[n] for n in required):
        missing = ", ".join(f"PARAPHE_SEAL_PKCS11_{n}" for n in required if not pkcs11[n])
        problems.append(f"clé de cachet PKCS#11 incomplète : il manque {missing}")
    if pkcs11["MODULE"] and not Path(pkcs11["MODULE"]).is_file():
        problems.append(f"PARAPHE_SEAL_PKCS11_MODULE : fichier introuvable ({pkcs11['MODULE']})")
    if pkcs11["MODULE"] and p12:
        problems.append("choisir PARAPHE_SEAL_PKCS12 ou PARAPHE_SEAL_PKCS11_*, pas les deux")

    tsa_url = env.get("PARAPHE_TSA_URL") or None
    if tsa_url and urlsplit(tsa_url).scheme not in {"http", "https"}:
        problems.append("PARAPHE_TSA_URL doit être une URL http(s)")
    if tsa_url and not p12 and not pkcs11["MODULE"]:
        # With a TSA the seal is PAdES B-LTA, which embeds the revocation status of every
        # certificate; the development PKI publishes none (no CRL, no OCSP), so every seal
        # would fail at signing time. Refused here rather than discovered contract after
        # contract ("alerts only when something is wrong").
        problems.append(
            "PARAPHE_TSA_URL demande un vrai certificat de cachet (PARAPHE_SEAL_PKCS12 ou "
            "PARAPHE_SEAL_PKCS11_*) : avec une autorité d'horodatage, le cachet est en "
            "PAdES B-LTA et embarque l'état de révocation de son certificat, que le "
            "certificat de développement ne publie pas (ni liste de révocation, ni OCSP) ; "
            "chaque cachet échouerait. Configurez le certificat de cachet, ou retirez "
            "PARAPHE_TSA_URL (signatures B-B)"
        )
    return SealKeySettings(
        pkcs12_path=Path(p12) if p12 else None,
        pkcs12_passphrase=p12_pass,
        tsa_url=tsa_url,
        pkcs11_module=pkcs11["MODULE"],
        pkcs11_token=pkcs11["TOKEN"],
        pkcs11_pin=pkcs11["PIN"],
        pkcs11_key_label=pkcs11["KEY_LABEL"],
        pkcs11_cert_label=pkcs11["CERT_LABEL"],
        pkcs11_chain_labels=tuple(
            label.strip() for label in (pkcs11["CHAIN_LABELS"] or "").split(",") if label.strip()
        ),
    )
