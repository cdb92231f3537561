"""What production (PARAPHE_ENV=production) demands of the configuration.

The embedded defaults keep their state on the local disk or in one process (a generated
secret, the development PKI, SQLite, an outbox folder, counters in memory): right for one
machine that runs everything, wrong for several web processes behind a proxy, where a session
opened by one process must be honoured by the next and a job enqueued on one machine must be
seen by the worker of another. In production each such default is refused at start, all at
once, with the setting that replaces it (docs/deployment.md)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

ENV_DEVELOPMENT = "development"
ENV_PRODUCTION = "production"
ENVIRONMENTS = (ENV_DEVELOPMENT, ENV_PRODUCTION)
# It signs every session cookie and CSRF token: short enough to guess, and anyone could log in.
MIN_SECRET_KEY_LENGTH = 32


def read_environment(env: Mapping[str, str], problems: list[str]) -> str:
    """PARAPHE_ENV: `development` (the default) or `production`."""
    raw = env.get("PARAPHE_ENV", "").strip().lower() or ENV_DEVELOPMENT
    if raw not in ENVIRONMENTS:
        problems.append("PARAPHE_ENV doit valoir « development » (par défaut) ou « production »")
        return ENV_DEVELOPMENT
    return raw


def production_problems(
    env: Mapping[str, str],
    *,
    database_backend: str,
    queue_url: str,
    ratelimit_storage: str,
    base_url: str,
    smtp_url: str | None,
    storage_url: str | None,
    instance_dir: Path,
    backup_keyring: Path | None,
) -> list[str]:
    """Every setting that would keep production's state on one host or in one process.

    `env` is read only for what Settings does not keep as given: whether the secret key, the
    seal key and the PKI folder were set explicitly rather than defaulted, and whether a local
    document folder is acknowledged as a shared mount."""
    problems: list[str] = []
    prefix = "PARAPHE_ENV=production : "
    if not env.get("PARAPHE_SECRET_KEY"):
        problems.append(
            prefix + "PARAPHE_SECRET_KEY manque ; sans elle, chaque machine génère sa propre clé "
            "(instance/secret_key) et refuse les sessions et jetons CSRF signés par les autres. "
            "Donnez la même clé à tous les processus (au moins 32 caractères aléatoires)"
        )
    elif len(env["PARAPHE_SECRET_KEY"].strip()) < MIN_SECRET_KEY_LENGTH:
        problems.append(
            prefix + f"PARAPHE_SECRET_KEY est trop courte (au moins {MIN_SECRET_KEY_LENGTH} "
            "caractères aléatoires, ex. python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(48))')"
        )
    real_seal = env.get("PARAPHE_SEAL_PKCS12") or env.get("PARAPHE_SEAL_PKCS11_MODULE")
    if not real_seal and not env.get("PARAPHE_PKI_DIR"):
        problems.append(
            prefix + "le cachet serait celui de la PKI de développement, créée par chaque machine "
            "dans son instance/pki : configurez le vrai certificat de cachet "
            "(PARAPHE_SEAL_PKCS12 ou PARAPHE_SEAL_PKCS11_*), ou, pour une préproduction, "
            "PARAPHE_PKI_DIR vers un dossier partagé par toutes les machines"
        )
    if database_backend == "sqlite":
        problems.append(
            prefix + "DATABASE_URL désigne SQLite, un fichier sur une seule machine : "
            "utilisez PostgreSQL (postgresql+psycopg://utilisateur@hôte/base)"
        )
    queue_scheme = urlsplit(queue_url).scheme
    if queue_url == "inline" or queue_scheme == "sqlite":
        problems.append(
            prefix + f"PARAPHE_QUEUE_URL vaut {'« inline »' if queue_url == 'inline' else 'SQLite'}"
            " : les travaux resteraient sur la machine qui les demande. Utilisez "
            "postgresql://… ou redis://…"
        )
    if urlsplit(ratelimit_storage).scheme == "memory":
        problems.append(
            prefix + "PARAPHE_RATELIMIT_STORAGE=memory:// compte dans chaque processus : gardez "
            "« database » (par défaut) ou redis://…"
        )
    if urlsplit(base_url).scheme != "https":
        problems.append(
            prefix + "PARAPHE_BASE_URL doit commencer par https:// (cookies de session « Secure », "
            "HSTS, liens de signature des courriels)"
        )
    problems += _storage_problems(env, storage_url, prefix)
    problems += _backup_problems(env, instance_dir, backup_keyring, prefix)
    if smtp_url is None:
        problems.append(
            prefix + "PARAPHE_SMTP_URL manque : les courriels iraient dans le dossier outbox "
            "d'une machine au lieu de partir. Indiquez smtp://, smtp+starttls:// ou smtps://…"
        )
    return problems


STORAGE_SHARED = "PARAPHE_STORAGE_SHARED"


def _storage_problems(env: Mapping[str, str], storage_url: str | None, prefix: str) -> list[str]:
    """Documents in a folder (PARAPHE_STORAGE_DIR, instance/blobs by default) are on one
    machine's disk unless that folder is a mount every machine shares at the same path, which
    only the operator knows: S3 is expected, or PARAPHE_STORAGE_SHARED=1 saying so. Read
    whatever the storage, so that a misspelt value is refused even beside S3."""
    shared = env.get(STORAGE_SHARED, "").strip()
    if shared not in ("", "0", "1"):
        return [prefix + f"{STORAGE_SHARED} doit valoir 1 (dossier partagé) ou 0"]
    if storage_url is None and shared != "1":
        return [
            prefix + "les documents iraient dans un dossier de cette machine "
            "(PARAPHE_STORAGE_DIR) : une machine perdue perd l'archive et les autres ne la "
            "voient pas. Utilisez un stockage S3 compatible (PARAPHE_STORAGE_URL=s3://…) ou, "
            f"si ce dossier est un partage monté au même chemin sur toutes les machines, "
            f"déclarez-le par {STORAGE_SHARED}=1"
        ]
    return []


BACKUP_KEYRING_SHARED = "PARAPHE_BACKUP_KEYRING_SHARED"


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def _backup_problems(
    env: Mapping[str, str], instance_dir: Path, keyring: Path | None, prefix: str
) -> list[str]:
    """The default backup target (instance/backups) and keyring (instance/backup-keyring.json)
    are on the very disk the backups are meant to survive: a lost machine takes the copies and
    the only keys that decrypt them. The target must be named (its overlap with the live store
    is refused by app.backup_settings for every environment); the keyring must be named outside
    the instance folder, or its place declared deliberate by PARAPHE_BACKUP_KEYRING_SHARED=1
    (an instance folder that is itself a mounted, separately backed-up volume)."""
    problems: list[str] = []
    url = (env.get("PARAPHE_BACKUP_URL") or "").strip()
    if not url:
        problems.append(
            prefix + "PARAPHE_BACKUP_URL manque : les sauvegardes iraient dans instance/backups, "
            "sur le disque même qu'elles doivent protéger. Indiquez s3://compartiment/préfixe "
            "(autre que celui des documents) ou un dossier monté d'une autre machine"
        )
    elif not url.startswith("s3://") and _inside(Path(url), instance_dir):
        problems.append(
            prefix + "PARAPHE_BACKUP_URL est dans le dossier de l'instance (PARAPHE_INSTANCE_DIR), "
            "sur le disque de cette machine : choisissez s3://… ou un dossier monté ailleurs"
        )
    declared = env.get(BACKUP_KEYRING_SHARED, "").strip()
    if declared not in ("", "0", "1"):
        problems.append(prefix + f"{BACKUP_KEYRING_SHARED} doit valoir 1 (emplacement voulu) ou 0")
    elif declared != "1" and (
        not env.get("PARAPHE_BACKUP_KEYRING") or keyring is None or _inside(keyring, instance_dir)
    ):
        problems.append(
            prefix + "le trousseau des sauvegardes (PARAPHE_BACKUP_KEYRING) serait dans le dossier "
            "de l'instance, sur le disque de cette machine : la perdre, c'est ne plus pouvoir "
            "déchiffrer aucune sauvegarde. Indiquez un chemin hors de PARAPHE_INSTANCE_DIR "
            "(volume chiffré, coffre monté) ou, si cet emplacement est voulu et sauvegardé à part, "
            f"déclarez-le par {BACKUP_KEYRING_SHARED}=1"
        )
    return problems
