"""Settings: one frozen object built from the environment and validated at start.

Every setting has an embedded default so that the service runs anywhere with one command
(SQLite, local blob storage, a development PKI, an outbox folder instead of SMTP); production
overrides them through environment variables documented in the README.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from app.backup_settings import BackupSettings, backup_settings
from app.env_flags import read_flag
from app.instance_secret import instance_secret
from app.production import ENV_DEVELOPMENT, ENV_PRODUCTION, production_problems, read_environment
from app.queue.settings import QUEUE_INLINE, queue_url_from
from app.retention_settings import RetentionPolicy, retention_policy
from app.storage_settings import object_storage
from app.vendor_settings import VendorIdentity, vendor_identity
from app.webhook_settings import webhook_delivery, webhook_production_problems

REPO_ROOT = Path(__file__).resolve().parent.parent


RATELIMIT_DATABASE = "database"  # rate limits counted in the application's database


class ConfigError(Exception):
    """The environment does not describe a usable configuration; the message lists why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("Configuration invalide :\n  - " + "\n  - ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    instance_dir: Path
    database_url: str
    secret_key: str
    storage_dir: Path
    outbox_dir: Path
    pki_dir: Path
    # s3://bucket[/prefix]: the blobs in an S3-compatible bucket (app/storage_config.py); the
    # credentials are the AWS_* variables, read by boto3 itself: never here, never logged.
    storage_url: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    base_url: str = "http://127.0.0.1:5000"
    smtp_url: str | None = None
    mail_from: str = "Paraphe <no-reply@paraphe.localhost>"
    seal_pkcs12_path: Path | None = None
    seal_pkcs12_passphrase: str | None = field(default=None, repr=False)
    tsa_url: str | None = None
    # A seal key in a PKCS#11 token (HSM) instead of a PKCS#12 file: all of module, token,
    # PIN and certificate label, or none. The chain labels name the CA certificates to embed.
    seal_pkcs11_module: str | None = None
    seal_pkcs11_token: str | None = None
    seal_pkcs11_pin: str | None = field(default=None, repr=False)
    seal_pkcs11_key_label: str | None = None
    seal_pkcs11_cert_label: str | None = None
    seal_pkcs11_chain_labels: tuple[str, ...] = ()
    signing_link_days: int = 30
    # Days after the invitation when a signer who has not signed is reminded.
    reminder_days: tuple[int, ...] = (3, 7, 14)
    # Reminders a signer gets at most per request (scheduled and asked now alike): a cadence
    # of every day would otherwise mail them daily until the request expires.
    reminder_max: int = 3
    contract_templates_dir: Path | None = None
    vendor: VendorIdentity = field(default_factory=VendorIdentity)
    ratelimit_storage_uri: str = "database"  # RATELIMIT_DATABASE, or a `limits` storage URI
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    seal_invoices: bool = False  # PAdES seal of the platform on each invoice PDF, off by default
    backup: BackupSettings = field(default_factory=BackupSettings)  # app/backup_settings.py
    # Reverse proxies in front of the server whose X-Forwarded-For / -Proto are believed. 0 (the
    # default): the headers are ignored, since anyone could forge them; behind one nginx: 1.
    # The client's IP feeds the rate limits and the evidence files.
    trusted_proxies: int = 0
    # One line per request, by route, never the raw path (app/access_log.py). Off when the
    # reverse proxy in front keeps the access log already.
    access_log: bool = True
    # Where background jobs wait for a worker (app/queue): "inline" runs each job in the
    # process that enqueues it, at once (the tests, a one-off command); sqlite:///… (the
    # embedded default, one machine), postgresql://… or redis://… (several machines).
    queue_url: str = QUEUE_INLINE
    # The queue's name on its broker: two instances sharing one Redis or PostgreSQL broker
    # keep their jobs apart by name.
    queue_name: str = "paraphe"
    # PARAPHE_ENV: "production" refuses every default that keeps state on one host or in one
    # process (app/production.py); "development" (the default) runs anywhere with none set.
    environment: str = ENV_DEVELOPMENT
    # Webhook deliveries to loopback, private, link-local or reserved addresses (checked after
    # DNS resolution, at each delivery). Off: a webhook URL must not reach the instance's own
    # network (metadata services, databases). The tests and a closed on-premise network set it.
    webhooks_allow_private: bool = False
    # Every wait of the webhooks' retry schedule multiplied by this (PARAPHE_WEBHOOKS_RETRY_SCALE):
    # for the tests and benches only (0.01 turns the 5 s, 5 min, 30 min… schedule into 50 ms,
    # 3 s, 18 s…), so that a real worker's retries fit in a test. Refused in production.
    webhooks_retry_scale: float = 1.0
    testing: bool = False

    def __repr__(self) -> str:  # never let the secret key reach a log line
        return f"Settings(instance_dir={self.instance_dir!s}, database={self.database_backend})"

    @property
    def production(self) -> bool:
        return self.environment == ENV_PRODUCTION

    @property
    def database_backend(self) -> str:
        return urlsplit(self.database_url).scheme.split("+")[0]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        problems: list[str] = []

        instance_dir = Path(env.get("PARAPHE_INSTANCE_DIR", str(REPO_ROOT / "instance"))).resolve()
        database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_dir / 'paraphe.db'}"
        if urlsplit(database_url).scheme.split("+")[0] not in {"sqlite", "postgresql"}:
            problems.append(
                "DATABASE_URL doit désigner SQLite (sqlite:///chemin) ou PostgreSQL "
                "(postgresql+psycopg://utilisateur@hôte/base)"
            )
        elif database_url.startswith("postgresql://"):
            # psycopg 3 is the driver we ship; SQLAlchemy would otherwise look for psycopg2.
            database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

        # Shared by every server process: the application's database by default (no extra
        # service), Redis for a large deployment. memory:// counts per process, so it is only
        # right with a single one (`paraphe serve --workers 1`, `paraphe run`, tests).
        ratelimit_storage = env.get("PARAPHE_RATELIMIT_STORAGE", "").strip() or RATELIMIT_DATABASE
        if ratelimit_storage != RATELIMIT_DATABASE and urlsplit(ratelimit_storage).scheme not in {
            "memory",
            "redis",
            "rediss",
        }:
            problems.append(
                "PARAPHE_RATELIMIT_STORAGE doit valoir « database » (la base de l'application, "
                "par défaut), redis://hôte:port/n, rediss://… ou memory:// (un seul processus)"
            )
        queue_url = queue_url_from(env, instance_dir, problems)
        storage_url, s3_endpoint_url, s3_region = object_storage(env, problems)
        storage_dir = Path(env.get("PARAPHE_STORAGE_DIR", str(instance_dir / "blobs")))
        backup = backup_settings(env, instance_dir, storage_dir, storage_url, problems)

        base_url = env.get("PARAPHE_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        if urlsplit(base_url).scheme not in {"http", "https"}:
            problems.append("PARAPHE_BASE_URL doit commencer par http:// ou https://")

        smtp_url = env.get("PARAPHE_SMTP_URL") or None
        if smtp_url and urlsplit(smtp_url).scheme not in {"smtp", "smtps", "smtp+starttls"}:
            problems.append(
                "PARAPHE_SMTP_URL doit être de la forme smtp://, smtps:// ou smtp+starttls://"
            )

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
            problems.append(
                f"PARAPHE_SEAL_PKCS11_MODULE : fichier introuvable ({pkcs11['MODULE']})"
            )
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

        signing_link_days = _whole_number(env, "PARAPHE_SIGNING_LINK_DAYS", 30, 1, 365, problems)

        reminders_raw = env.get("PARAPHE_REMINDER_DAYS", "3,7,14")
        try:
            reminder_days = tuple(
                sorted({int(part) for part in reminders_raw.split(",") if part.strip()})
            )
            if any(not 1 <= d <= 365 for d in reminder_days):
                raise ValueError
        except ValueError:
            problems.append(
                "PARAPHE_REMINDER_DAYS : des nombres de jours entre 1 et 365 séparés par des "
                "virgules (ex. 3,7,14)"
            )
            reminder_days = (3, 7, 14)

        reminder_max = _whole_number(env, "PARAPHE_REMINDER_MAX", 3, 0, 10, problems)

        templates = env.get("PARAPHE_CONTRACT_TEMPLATES") or None
        if templates and not Path(templates).is_dir():
            problems.append(f"PARAPHE_CONTRACT_TEMPLATES : dossier introuvable ({templates})")

        retention = retention_policy(env, problems)
        seal_invoices = read_flag(env, "PARAPHE_SEAL_INVOICES", "", problems)

        proxies_raw = env.get("PARAPHE_TRUSTED_PROXIES", "0").strip() or "0"
        trusted_proxies = int(proxies_raw) if proxies_raw.isdigit() else -1
        if not 0 <= trusted_proxies <= MAX_TRUSTED_PROXIES:
            problems.append(
                f"PARAPHE_TRUSTED_PROXIES doit être un entier entre 0 et {MAX_TRUSTED_PROXIES} "
                "(le nombre de proxys inverses devant le serveur)"
            )
            trusted_proxies = 0

        access_log = read_flag(env, "PARAPHE_ACCESS_LOG", "1", problems)
        webhooks = webhook_delivery(env, problems)
        vendor = vendor_identity(env, problems)

        environment = read_environment(env, problems)
        if environment == ENV_PRODUCTION:
            problems += production_problems(
                env,
                database_backend=urlsplit(database_url).scheme.split("+")[0],
                queue_url=queue_url,
                ratelimit_storage=ratelimit_storage,
                base_url=base_url,
                smtp_url=smtp_url,
                storage_url=storage_url,
                instance_dir=instance_dir,
                backup_keyring=backup.keyring_path,
            )
            problems += webhook_production_problems(webhooks)

        if problems:
            raise ConfigError(problems)

        secret = env.get("PARAPHE_SECRET_KEY") or instance_secret(instance_dir)
        return cls(
            instance_dir=instance_dir,
            database_url=database_url,
            secret_key=secret,
            storage_dir=storage_dir,
            storage_url=storage_url,
            s3_endpoint_url=s3_endpoint_url,
            s3_region=s3_region,
            outbox_dir=Path(env.get("PARAPHE_OUTBOX_DIR", str(instance_dir / "outbox"))),
            pki_dir=Path(env.get("PARAPHE_PKI_DIR", str(instance_dir / "pki"))),
            base_url=base_url,
            smtp_url=smtp_url,
            mail_from=env.get("PARAPHE_MAIL_FROM", cls.mail_from),
            seal_pkcs12_path=Path(p12) if p12 else None,
            seal_pkcs12_passphrase=p12_pass,
            tsa_url=tsa_url,
            seal_pkcs11_module=pkcs11["MODULE"],
            seal_pkcs11_token=pkcs11["TOKEN"],
            seal_pkcs11_pin=pkcs11["PIN"],
            seal_pkcs11_key_label=pkcs11["KEY_LABEL"],
            seal_pkcs11_cert_label=pkcs11["CERT_LABEL"],
            seal_pkcs11_chain_labels=tuple(
                label.strip()
                for label in (pkcs11["CHAIN_LABELS"] or "").split(",")
                if label.strip()
            ),
            signing_link_days=signing_link_days,
            reminder_days=reminder_days,
            reminder_max=reminder_max,
            contract_templates_dir=Path(templates) if templates else None,
            vendor=vendor,
            ratelimit_storage_uri=ratelimit_storage,
            retention=retention,
            seal_invoices=seal_invoices,
            trusted_proxies=trusted_proxies,
            access_log=access_log,
            queue_url=queue_url,
            queue_name=env.get("PARAPHE_QUEUE_NAME", "").strip() or cls.queue_name,
            environment=environment,
            webhooks_allow_private=webhooks.allow_private,
            webhooks_retry_scale=webhooks.retry_scale,
            backup=backup,
        )


MAX_TRUSTED_PROXIES = 5


def _whole_number(
    env: Mapping[str, str], name: str, default: int, low: int, high: int, problems: list[str]
) -> int:
    """The variable `name` (`default` when unset) as a whole number from `low` to `high`;
    any other value adds « NAME doit être un entier entre LOW et HIGH » to `problems` and
    reads as the default, so that every problem is listed at once."""
    try:
        value: int | None = int(env.get(name, str(default)))
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        problems.append(f"{name} doit être un entier entre {low} et {high}")
        return default
    return value
