"""The backup settings (PARAPHE_BACKUP_*), checked with the rest of `app.config.Settings` at
start; apart so that config.py stays readable. What they drive is in app/backups/."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from storage import S3Location


@dataclass(frozen=True)
class BackupSettings:
    # A folder, or s3://bucket/prefix; never the live store (checked at start).
    url: str | None = None
    # Where the encryption keys live: outside the backup target and the database dump, or
    # destroying a key (crypto-shredding) would not erase anything.
    keyring_path: Path | None = None
    # Optional: the whole database dump encrypted under this 256-bit key as well.
    dump_key: bytes | None = field(default=None, repr=False)
    interval_hours: int = 24
    keep_daily: int = 7
    keep_weekly: int = 4
    keep_monthly: int = 12


def _overlap(a: S3Location, b: S3Location) -> bool:
    return a.bucket == b.bucket and (a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix))


def _positive(env: Mapping[str, str], name: str, default: int, problems: list[str]) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) <= 10_000:
        problems.append(f"{name} : un nombre entier positif (par défaut {default})")
        return default
    return int(raw)


def backup_settings(
    env: Mapping[str, str],
    instance_dir: Path,
    storage_dir: Path,
    storage_url: str | None,
    problems: list[str],
) -> BackupSettings:
    """PARAPHE_BACKUP_URL (default: instance/backups), PARAPHE_BACKUP_KEYRING (default:
    instance/backup-keyring.json), PARAPHE_BACKUP_KEY (base64, 32 bytes, optional),
    PARAPHE_BACKUP_INTERVAL_HOURS and the retention counts PARAPHE_BACKUP_KEEP_DAILY,
    _WEEKLY, _MONTHLY."""
    url = (env.get("PARAPHE_BACKUP_URL") or "").strip() or str(instance_dir / "backups")
    if url.startswith("s3://"):
        try:
            location = S3Location.parse(url)
        except ValueError:
            problems.append("PARAPHE_BACKUP_URL : s3://compartiment/préfixe ou un dossier")
        else:
            if storage_url is not None and _overlap(location, S3Location.parse(storage_url)):
                problems.append(
                    "PARAPHE_BACKUP_URL doit différer du stockage des documents "
                    "(autre compartiment, ou préfixe qui ne contient pas le sien et n'y est pas)"
                )
    else:
        target = Path(url).resolve()
        live = storage_dir.resolve()
        if target == live or live in target.parents or target in live.parents:
            problems.append(
                "PARAPHE_BACKUP_URL doit être un dossier distinct du stockage des documents "
                "(PARAPHE_STORAGE_DIR), ni dedans ni au-dessus"
            )
    keyring = Path(env.get("PARAPHE_BACKUP_KEYRING") or instance_dir / "backup-keyring.json")
    if not url.startswith("s3://") and Path(url).resolve() in keyring.resolve().parents:
        problems.append(
            "PARAPHE_BACKUP_KEYRING ne doit pas être dans la cible des sauvegardes : "
            "une clé gardée à côté des données ne protège rien"
        )
    dump_key = None
    raw_key = (env.get("PARAPHE_BACKUP_KEY") or "").strip()
    if raw_key:
        try:
            dump_key = base64.b64decode(raw_key, validate=True)
        except (binascii.Error, ValueError):
            dump_key = b""
        if len(dump_key) != 32:
            problems.append("PARAPHE_BACKUP_KEY : 32 octets en base64 (openssl rand -base64 32)")
            dump_key = None
    return BackupSettings(
        url=url,
        keyring_path=keyring,
        dump_key=dump_key,
        interval_hours=_positive(env, "PARAPHE_BACKUP_INTERVAL_HOURS", 24, problems),
        keep_daily=_positive(env, "PARAPHE_BACKUP_KEEP_DAILY", 7, problems),
        keep_weekly=_positive(env, "PARAPHE_BACKUP_KEEP_WEEKLY", 4, problems),
        keep_monthly=_positive(env, "PARAPHE_BACKUP_KEEP_MONTHLY", 12, problems),
    )
